"""Engagement's reaction to recorded events (THROUGHLINE_EVENT_REACTIONS, run by
`manage.py react` off the request path): what engagement reacts to.

- an inbound message or call: attribution (a reply), the evaluation sequence stops, the
  cart sequence pauses until the conversation goes quiet (rules/cart_abandoned.py), and
  the after-hours rule may acknowledge it;
- a cart or checkout event: the cart's watch is (re)armed;
- a product view or in-store scan: the evaluation watch is (re)armed;
- an order: attribution, the cart sequence stops, post purchase may watch the order;
- an opt-out: attribution, and every sequence of the customer stops.

Anything else returns at once: this runs for every event the journal records.

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
from .rules import after_hours, cart_abandoned, evaluation_left, post_purchase


def on_event(event: Event) -> None:
    kind, direction = event.kind, event.direction
    customer_id = event.conversation.customer_id
    if direction == Event.Direction.IN and kind in ("message", "call"):
        attribution.attribute(customer_id, "replied_at", event.occurred_at)
        _stop(customer_id, "replied", (evaluation_left.RULE.slug,))
        cart_abandoned.RULE.pause(customer_id, event.occurred_at)
        if kind == "message" and not reactions.replaying():  # answers now, not days later
            after_hours.acknowledge(event)
    elif kind in ("cart", "checkout"):
        cart_abandoned.RULE.on_event(event)
    elif kind in ("product_view", "scan"):
        evaluation_left.RULE.on_event(event)
    elif kind == "order":
        attribution.attribute(customer_id, "ordered_at", event.occurred_at)
        _stop(customer_id, "ordered", (cart_abandoned.RULE.slug,))
        post_purchase.RULE.on_event(event)
    elif kind == "consent" and (event.data or {}).get("action") == "opt_out":
        attribution.attribute(customer_id, "opted_out_at", event.occurred_at)
        _stop(customer_id, "opted out", None)


def _stop(customer_id: int, reason: str, rules: tuple[str, ...] | None) -> None:
    """Close the customer's watches and withdraw their waiting nudges (of these rules)."""
    watches.close(customer=customer_id, reason=reason, rules=rules)
    arbiter.withdraw(Customer(pk=customer_id), reason=reason, rules=rules)
