"""Outcomes of suggested next actions: shown, taken, and what followed (docs/insights.md).

Verbs: `record_shown` (the ranker calls it when the console shows suggestions: one row
per customer, action and SHOWN_DEDUPE, so reopening a page does not count twice),
`record_taken`, and `on_event` (a THROUGHLINE_EVENT_REACTIONS reaction) which reads each event
once for what it means here:

- an agent's outbound message takes the message suggestions shown (answer, cart, product,
  cross-sell, in store); an outbound call takes `call_back`;
- an inbound message is a reply, an order an order, a STOP an opt-out and a case turning
  hot a hot case, for every outcome shown within ATTRIBUTION before it.

Each is one prepared, indexed UPDATE (the customer's recent outcomes, the customer read
through the event's conversation in the same statement), whatever the history's size.
The earliest event of each kind wins, whatever order reactions run in, so running one
again (a retry, `manage.py replay_reactions`) changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from conversations import statements
from conversations.models import Customer, Event

from .models import Outcome

SHOWN_DEDUPE = timedelta(hours=24)
TAKE_WINDOW = timedelta(hours=24)  # an action taken this long after it was shown counts
ATTRIBUTION = timedelta(days=7)  # what followed within this long is the outcome's
MESSAGE_ACTIONS = ("answer", "cart", "product", "cross_sell", "in_store")
CALL_ACTIONS = ("call_back",)


def record_shown(
    customer: Customer, actions: Iterable[str], *, personas: list[int], now: datetime | None = None
) -> int:
    """One outcome per action not shown to this customer within SHOWN_DEDUPE; return how
    many were new."""
    now = now or timezone.now()
    actions = list(dict.fromkeys(actions))
    seen = set(
        Outcome.objects.filter(
            customer=customer, action__in=actions, shown_at__gte=now - SHOWN_DEDUPE
        ).values_list("action", flat=True)
    )
    new = [
        Outcome(customer=customer, action=action, personas=personas, shown_at=now)
        for action in actions
        if action not in seen
    ]
    Outcome.objects.bulk_create(new)
    return len(new)


def record_taken(customer_id: int, actions: Iterable[str], *, at: datetime) -> int:
    return Outcome.objects.filter(
        Q(taken_at=None) | Q(taken_at__gt=at),
        customer_id=customer_id,
        action__in=list(actions),
        shown_at__lte=at,
        shown_at__gte=at - TAKE_WINDOW,
    ).update(taken_at=at)


# What an event means for its customer's recent outcomes, one prepared UPDATE per
# meaning (ADR 0004: it runs for most events, and planning cost more than running): the
# customer is read through the event's conversation in the same statement. An event
# that follows nothing shown touches no row: one indexed read (outcome_customer_idx).
_FOLLOWED_SQL = {
    field: f"""UPDATE insights_outcome SET {field} = %(at)s
    WHERE customer_id = (SELECT customer_id FROM conversations_conversation
            WHERE id = %(conversation)s)
        AND shown_at <= %(at)s AND shown_at >= %(since)s
        AND ({field} IS NULL OR {field} > %(at)s)"""  # noqa: S608 (a fixed column name)
    for field in ("replied_at", "ordered_at", "opted_out_at", "hot_at")
}
_TAKEN_SQL = """UPDATE insights_outcome SET taken_at = %(at)s
    WHERE customer_id = (SELECT customer_id FROM conversations_conversation
            WHERE id = %(conversation)s)
        AND action = ANY(%(actions)s::text[])
        AND shown_at <= %(at)s AND shown_at >= %(since)s
        AND (taken_at IS NULL OR taken_at > %(at)s)"""


def on_event(event: Event) -> None:
    """What this event means for recent outcomes (see the module docstring)."""
    meaning = _meaning(event)
    if meaning is None:
        return
    _kind, what = meaning
    at = event.occurred_at
    params: dict[str, object] = {"at": at, "conversation": event.conversation_id}
    if isinstance(what, tuple):  # taken: the actions it takes
        sql = _TAKEN_SQL
        params |= {"actions": list(what), "since": at - TAKE_WINDOW}
    else:  # followed: the field it sets
        sql = _FOLLOWED_SQL[what]
        params["since"] = at - ATTRIBUTION
    with statements.cursor() as cursor:  # prepared: planned once per connection
        cursor.execute(sql, params)


def _meaning(event: Event) -> tuple[str, str | tuple[str, ...]] | None:
    data = event.data if isinstance(event.data, dict) else {}
    if event.direction == Event.Direction.OUT:
        if event.kind == "message" and event.author_id is not None:
            return "taken", MESSAGE_ACTIONS
        if event.kind == "call":
            return "taken", CALL_ACTIONS
        return None
    if event.kind == "message" and event.direction == Event.Direction.IN:
        return "followed", "replied_at"
    if event.kind == "order":
        return "followed", "ordered_at"
    if event.kind == "consent" and data.get("action") == "opt_out":
        return "followed", "opted_out_at"
    if event.kind == "routing" and data.get("action") == "hot":
        return "followed", "hot_at"
    return None
