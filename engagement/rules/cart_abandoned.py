"""Cart abandoned: a cart with items, idle for a while, worth enough, no order since.

A sequence of steps (by default 1 h after the cart last changed, then 24 h after that
first message: with the default cap of one message a day, a second step sooner would
only be suppressed). Every cart change re-arms the cart's watch for its next step,
counted from the change or the previous step, whichever is later. The sequence stops at
once when the customer orders or says STOP (hooks.py closes the watch and withdraws any
waiting step), and pauses while the cart is empty or worth less than the threshold.

A message or call from the customer pauses it instead (`pause`): she is talking with us,
so no reminder talks over the conversation; any waiting step is withdrawn. Once the
conversation has gone quiet (param `quiet_after_hours`, 24 by default, with no message
from her and none from an agent) and nothing was ordered, one follow-up goes instead of
the remaining steps (param `follow_up`: "whenever you are ready to talk about the T900
treadmill, we are here"), on the first channel the customer allows, the one she wrote on
first, or nowhere; then the sequence is done.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from commerce.models import Cart, Order
from conversations.models import Conversation, Customer, Event

from .. import arbiter, watches
from ..models import RuleConfig, Watch
from . import Defaults, Rule, minutes

STEP_1 = (
    "{% if first_name %}Hi {{ first_name }}! {% endif %}Still thinking about the "
    "{{ product }}{% if cart.item_count > 1 %} and the rest of your cart{% endif %}? "
    "Happy to answer any questions about it: just reply here."
)
STEP_2 = (
    "Your {{ product }} is still in your cart ({{ cart_value }}). Questions about delivery "
    "or warranty? Reply here and one of us will answer. Messages from us: "
    "{{ links.preferences }}"
)
FOLLOW_UP = (
    "{% if first_name %}{{ first_name }}, whenever{% else %}Whenever{% endif %} you are "
    "ready to talk {% if product %}about the {{ product }}{% else %}it over{% endif %}, "
    "we are here: just reply to this message."
)
PAUSED = "paused: the customer is talking with us"


class CartAbandoned(Rule):
    slug = "cart_abandoned"
    topic = "cart_reminders"
    worth_sending = timedelta(hours=48)  # two days on, the cart is history
    defaults = Defaults(
        priority=30,
        min_value=Decimal("50.00"),
        params={"quiet_after_hours": 24, "follow_up": FOLLOW_UP},
        steps=((60, STEP_1), (24 * 60, STEP_2)),
    )

    def watch_cart(self, cart: Cart) -> Watch | None:
        """Arm (or re-arm) the cart's watch for its next step after this change."""
        config = self.config()
        if not config.enabled:
            return None
        subject = f"cart:{cart.pk}"
        existing = Watch.objects.filter(rule=self.slug, subject=subject).first()
        if existing is not None and existing.data.get("paused_at"):
            return existing  # the conversation says when to look again, not the cart
        done = existing.step if existing else 0
        steps = self.steps(config)
        at = None
        if cart.status in Cart.ACTIVE and cart.item_count > 0 and done < len(steps):
            at = _since(cart, existing) + minutes(steps[done].delay_minutes)
        return watches.arm(rule=self.slug, subject=subject, customer=cart.customer_id, at=at)

    def on_event(self, event: Event) -> None:
        """A cart or checkout event: watch the customer's active cart."""
        cart = Cart.objects.filter(
            customer_id=event.conversation.customer_id, status__in=Cart.ACTIVE
        ).first()
        if cart is not None:
            self.watch_cart(cart)

    def pause(self, customer_id: int, at: datetime) -> int:
        """The customer wrote or called at `at`: pause her open cart sequences until the
        conversation has gone quiet, and withdraw their waiting steps. Returns how many."""
        open_watches = list(
            Watch.objects.filter(customer_id=customer_id, rule=self.slug, closed_reason="")
        )
        if not open_watches:
            return 0  # the common case: one indexed query
        quiet = timedelta(hours=self.param(self.config(), "quiet_after_hours"))
        for watch in open_watches:
            watches.arm(
                rule=self.slug,
                subject=watch.subject,
                customer=customer_id,
                at=at + quiet,
                data={"paused_at": at.isoformat()},
            )
        arbiter.withdraw(Customer(pk=customer_id), reason=PAUSED, rules=(self.slug,))
        return len(open_watches)

    def advance(self, watch: Watch, config: RuleConfig, now: datetime) -> None:
        cart = Cart.objects.filter(pk=int(watch.subject.split(":")[1])).first()
        if cart is None or cart.status not in Cart.ACTIVE:
            ordered = cart is not None and cart.status == Cart.Status.ORDERED
            return watches.close_watch(watch, "ordered" if ordered else "cart closed")
        if watch.data.get("paused_at"):
            return self._follow_up(watch, cart, config, now)
        if cart.item_count == 0:
            watch.next_action_at = None  # emptied: a refill re-arms it
            return None
        if config.min_value is not None and cart.value < config.min_value:
            watch.next_action_at = None  # too small for now: a change re-arms it
            return None
        steps = self.steps(config)
        number = watch.step + 1
        if number > len(steps):
            return watches.close_watch(watch, "sequence done")
        changed = _last_change(cart)
        due = _since(cart, watch) + minutes(steps[number - 1].delay_minutes)
        if due > now:
            watch.next_action_at = due  # the cart changed after this watch was armed
            return None
        if Order.objects.filter(customer_id=cart.customer_id, placed_at__gte=changed).exists():
            return watches.close_watch(watch, "ordered")
        self.propose_step(
            config,
            Customer(pk=cart.customer_id),  # propose loads it (following merges)
            step=number,
            dedupe_key=f"{self.slug}:cart:{cart.pk}:{number}",
            data={"cart": cart.pk},
            due_at=now,
        )
        watch.step = number
        watch.data = {**watch.data, "last_step_at": now.isoformat()}
        if number < len(steps):
            watch.next_action_at = now + minutes(steps[number].delay_minutes)
        else:
            watches.close_watch(watch, "sequence done")
        return None

    def _follow_up(self, watch: Watch, cart: Cart, config: RuleConfig, now: datetime) -> None:
        """A paused sequence: the follow-up once the conversation has gone quiet."""
        conversation = Conversation.objects.get(customer_id=cart.customer_id)
        quiet = timedelta(hours=self.param(config, "quiet_after_hours"))
        last = _last_spoken(conversation)
        if last is not None and last + quiet > now:
            watch.next_action_at = last + quiet  # still talking: look again then
            return None
        paused_at = datetime.fromisoformat(watch.data["paused_at"])
        since = min(paused_at, _last_change(cart))
        if Order.objects.filter(customer_id=cart.customer_id, placed_at__gte=since).exists():
            return watches.close_watch(watch, "ordered")
        channels = config.channel_list()
        if conversation.last_channel in channels:  # where she asked her question first
            channels = (
                conversation.last_channel,
                *(c for c in channels if c != conversation.last_channel),
            )
        self.propose_step(
            config,
            Customer(pk=cart.customer_id),
            step=watch.step + 1,
            dedupe_key=f"{self.slug}:cart:{cart.pk}:follow-up",
            data={"cart": cart.pk, "proposal": "follow_up"},
            due_at=now,
            channels=channels,
            template=self.param(config, "follow_up"),
        )
        watch.step += 1
        return watches.close_watch(watch, "followed up")


def _last_spoken(conversation: Conversation) -> datetime | None:
    """When a person last spoke in the conversation: the customer, or an agent (an
    automatic message is no one talking)."""
    agent_at = (
        conversation.events.filter(direction=Event.Direction.OUT, author__isnull=False)
        .order_by("-seq")
        .values_list("occurred_at", flat=True)
        .first()
    )
    return max(filter(None, (conversation.last_inbound_at, agent_at)), default=None)


def _last_change(cart: Cart) -> datetime:
    return cart.snapshot_at or cart.updated_at or timezone.now()


def _since(cart: Cart, watch: Watch | None) -> datetime:
    """What the next step's delay counts from: the cart's last change or the previous
    step, whichever is later."""
    changed = _last_change(cart)
    last_step = (watch.data.get("last_step_at") if watch else None) or None
    return max(changed, datetime.fromisoformat(last_step)) if last_step else changed


RULE = CartAbandoned()
