"""Engagement's reaction to recorded events (THROUGHLINE_EVENT_REACTIONS, run by
`manage.py react` off the request path): what engagement reacts to.

- an inbound message or call: attribution (a reply), the evaluation sequence stops, the
  cart sequence pauses until the conversation goes quiet (rules/cart_abandoned.py), and
  the after-hours rule may acknowledge it;
- a cart or checkout event: the cart's watch is (re)armed;
- a product view or in-store scan: the evaluation watch is (re)armed;
- an order: attribution, the cart sequence stops, post purchase may watch the order;
- an opt-out: attribution, and every sequence of the customer stops.

Anything else returns at once: this runs for every event the journal records. For the
others, one prepared read (outstanding.py) says which verbs have anything to do: a
follow-up that changes nothing costs that one read.

It may run late, twice, or again from `manage.py replay_reactions`, and must then change
nothing that already followed from the event: attribution keeps the earliest follow-up,
arming a watch is keyed by its subject, and while replaying (`reactions.replaying()`) no
after-hours acknowledgement goes out (it answers a message now, not days later), and
watches.py and arbiter.py fill watches in without re-arming them and stop only what was
made before the event was recorded.
"""

from __future__ import annotations

from conversations import reactions
from conversations.models import Customer, Event

from . import arbiter, attribution, watches
from .outstanding import Outstanding, outstanding
from .rules import after_hours, cart_abandoned, evaluation_left, post_purchase


def on_event(event: Event) -> None:
    kind, direction = event.kind, event.direction
    if direction == Event.Direction.IN and kind in ("message", "call"):
        # the after-hours rule answers texts, and answers now, not days later
        answerable = kind == "message" and event.channel in ("sms", "web")
        found = _follow_up(
            event,
            "replied_at",
            "replied",
            (evaluation_left.RULE.slug,),
            answerable=answerable and not reactions.replaying(),
        )
        if found is not None and found.cart_open:
            cart_abandoned.RULE.pause(found.customer_id, event.occurred_at)
        if found is not None and found.may_acknowledge:
            after_hours.acknowledge(event)
    elif kind in ("cart", "checkout"):
        cart_abandoned.RULE.on_event(event)
    elif kind in ("product_view", "scan"):
        evaluation_left.RULE.on_event(event)
    elif kind == "order":
        _follow_up(event, "ordered_at", "ordered", (cart_abandoned.RULE.slug,))
        post_purchase.RULE.on_event(event)
    elif kind == "consent" and (event.data or {}).get("action") == "opt_out":
        _follow_up(event, "opted_out_at", "opted out", None)


def _follow_up(
    event: Event,
    field: str,
    reason: str,
    rules: tuple[str, ...] | None,
    *,
    answerable: bool = False,
) -> Outstanding | None:
    """Attribute the follow-up, then close the customer's watches and withdraw their
    waiting nudges (of these rules): each verb only where the one read says it has
    something to do. Returns that read (None: the conversation is gone)."""
    found = outstanding(event, field=field, stop=rules, answerable=answerable)
    if found is None:
        return None
    if found.attribute:
        attribution.attribute(found.customer_id, field, event.occurred_at)
    if found.watches_open:
        watches.close(customer=found.customer_id, reason=reason, rules=rules)
    if found.nudges_waiting:
        arbiter.withdraw(Customer(pk=found.customer_id), reason=reason, rules=rules)
    return found
