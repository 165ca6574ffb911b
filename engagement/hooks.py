"""Engagement's reaction to recorded events (THROUGHLINE_EVENT_REACTIONS, run by
`manage.py react` off the request path): what engagement reacts to.

- an inbound message or call: attribution (a reply), the cart and evaluation sequences
  stop, and the after-hours rule may acknowledge it;
- a cart or checkout event: the cart's watch is (re)armed;
- a product view or in-store scan: the evaluation watch is (re)armed;
- an order: attribution, the cart sequence stops, post purchase may watch the order;
- an opt-out: attribution, and every sequence of the customer stops.

Anything else returns at once: this runs for every event the journal records.
"""

from __future__ import annotations

from conversations.models import Customer, Event

from . import arbiter, attribution, watches
from .rules import after_hours, cart_abandoned, evaluation_left, post_purchase

SEQUENCES = (cart_abandoned.RULE.slug, evaluation_left.RULE.slug)


def on_event(event: Event) -> None:
    kind, direction = event.kind, event.direction
    customer_id = event.conversation.customer_id
    if direction == Event.Direction.IN and kind in ("message", "call"):
        attribution.attribute(customer_id, "replied_at", event.occurred_at)
        _stop(customer_id, "replied", SEQUENCES)
        if kind == "message":
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
