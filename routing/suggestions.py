"""What routing knows that makes a console suggestion stale (a `suggestion_rankers` plug).

console/suggestions.py builds its suggestions from the customer context; routing knows
two things the context does not say, and drops the suggestions they answer:

- "Offer a call back" (`call_back`) when a call back is already booked and waiting, or
  when a call got through (either way) since the last missed call;
- "Answer the question" (`answer`) when a call got through after the question: the
  agent answered it on the phone.

A ranker receives `(customer, context, suggestions)` and returns the suggestions to show;
it reads the suggestions by their `action` only (routing may not import console).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.utils.dateparse import parse_datetime

from conversations.models import Customer, Event

from .models import ScheduledCallBack


def rank(customer: Customer, context: Any, suggestions: Sequence[Any]) -> list[Any]:
    stale = set()
    actions = {s.action for s in suggestions}
    if "call_back" in actions and _call_back_settled(customer, context):
        stale.add("call_back")
    if "answer" in actions and _question_answered_by_phone(context.recent):
        stale.add("answer")
    return [s for s in suggestions if s.action not in stale]


def connected(event: Event) -> bool:
    """A call that got through: an inbound call an agent answered (its `<Dial>` said so),
    or a call we made that completed with some talk time. A missed call, a voicemail or a
    call still ringing is not one."""
    data = event.data or {}
    if event.kind != "call" or data.get("voicemail") or data.get("missed"):
        return False
    if data.get("answered"):
        return True
    return (
        event.direction == Event.Direction.OUT
        and data.get("status") == "completed"
        and (data.get("duration") or 0) > 0
    )


def _call_back_settled(customer: Customer, context: Any) -> bool:
    if ScheduledCallBack.objects.filter(
        customer_id=customer.pk, status=ScheduledCallBack.Status.SCHEDULED
    ).exists():
        return True
    frustration = (context.extra or {}).get("frustration") or {}
    last_missed = _when(frustration.get("last_missed_at"))
    return last_missed is not None and any(
        connected(event) and event.occurred_at > last_missed for event in context.recent
    )


def _question_answered_by_phone(recent: Sequence[Event]) -> bool:
    """Whether a call got through after the customer's latest message (recent: newest
    first, as the context keeps it)."""
    for event in recent:
        if event.direction == Event.Direction.IN and event.kind == "message":
            return False
        if connected(event):
            return True
    return False


def _when(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    return parse_datetime(value) if isinstance(value, str) else None
