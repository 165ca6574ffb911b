"""Evaluation left: repeated views of one product (or a scan of it in a store), no cart,
then gone for a while (by default 2 views, 24 hours). One message per customer and product.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from commerce.models import Cart, Order, ProductInterest
from conversations.models import Event

from .. import watches
from ..models import RuleConfig, Watch
from . import Defaults, Rule, minutes

STEP_1 = (
    "{% if first_name %}Hi {{ first_name }}, when{% else %}When{% endif %} you're ready to "
    "talk about the {{ product }}, we're here: just reply to this message."
)


class EvaluationLeft(Rule):
    slug = "evaluation_left"
    topic = "offers"
    worth_sending = timedelta(hours=48)
    defaults = Defaults(priority=10, params={"min_views": 2}, steps=((24 * 60, STEP_1),))

    def on_event(self, event: Event) -> None:
        """A product view or an in-store scan: (re)start the 'gone for N hours' clock."""
        data = event.data or {}
        if event.kind == "scan":
            product = data.get("product") or {}
            sku, name, scanned = product.get("sku"), product.get("name", ""), True
        else:
            sku, name, scanned = data.get("sku"), data.get("name", ""), False
        if not sku:
            return
        config = self.config()
        steps = self.steps(config)
        if not config.enabled or not steps:
            return
        customer_id = event.conversation.customer_id
        watches.arm(
            rule=self.slug,
            subject=f"interest:{customer_id}:{sku}"[:128],
            customer=customer_id,
            at=event.occurred_at + minutes(steps[0].delay_minutes),
            data={"sku": sku, "name": name, "last_seen_at": event.occurred_at.isoformat()}
            | ({"scanned": True} if scanned else {}),
        )

    def advance(self, watch: Watch, config: RuleConfig, now: datetime) -> None:
        steps = self.steps(config)
        if not steps:
            return watches.close_watch(watch, "no step")
        customer = watch.customer
        sku = watch.data["sku"]
        interest = (
            ProductInterest.objects.filter(customer=customer, product__sku=sku)
            .select_related("product")
            .first()
        )
        views = interest.views if interest else 0
        if views < int(self.param(config, "min_views") or 1) and not watch.data.get("scanned"):
            watch.next_action_at = None  # one look is not an evaluation: the next view re-arms
            return None
        if Cart.objects.filter(
            customer=customer, status__in=Cart.ACTIVE, item_count__gt=0
        ).exists():
            return watches.close_watch(watch, "in a cart")  # the cart rule speaks now
        seen = [datetime.fromisoformat(watch.data["last_seen_at"])]
        if interest:
            seen.append(interest.last_viewed_at)
        if customer.conversation.last_inbound_at:
            seen.append(customer.conversation.last_inbound_at)
        due = max(seen) + minutes(steps[0].delay_minutes)
        if due > now:
            watch.next_action_at = due  # not gone long enough yet
            return None
        first_seen = interest.first_viewed_at if interest else min(seen)
        if Order.objects.filter(
            customer=customer, placed_at__gte=first_seen, items__contains=[{"sku": sku}]
        ).exists():
            return watches.close_watch(watch, "ordered")
        name = interest.product.name if interest else watch.data.get("name", "")
        self.propose_step(
            config,
            customer,
            step=1,
            dedupe_key=f"{self.slug}:{customer.pk}:{sku}:1"[:200],
            context={"product": name},
            data={"sku": sku},
            due_at=now,
        )
        watch.step = 1
        return watches.close_watch(watch, "sequence done")


RULE = EvaluationLeft()
