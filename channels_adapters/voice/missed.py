"""Missed calls: an inbound call that ended before anyone answered or a message was left.

`record_if_missed` records a `missed_call` event (the voice context provider reads them as
a frustration signal). When the customer has missed VOICE_HOT_MISSED_CALLS calls within
VOICE_HOT_WINDOW_MINUTES, on any of their numbers (they are all one conversation), the
case becomes hot and a call-back offer is proposed to the engagement arbiter (the
`missed_call` rule): it decides, with consent, and records its decision in the timeline;
a refused offer is never sent to Twilio.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from conversations import cases, journal
from conversations.calls import annotate_call
from conversations.models import Case, Event
from engagement.rules import missed_call


def record_if_missed(call: Event) -> Event | None:
    """Record the missed call (once per call) and apply the hot rule; None if not missed."""
    if call.data.get("answered") or call.data.get("recording_url"):
        return None
    with transaction.atomic():
        customer = call.conversation.customer
        missed = journal.record(
            customer=customer,
            channel=Event.Channel.VOICE,
            kind="missed_call",
            direction=Event.Direction.IN,
            body="Missed call",
            data={"call": call.pk},
            source_id=f"{call.source_id}:missed",
        )
        annotate_call(call, missed=True)
        since = timezone.now() - timedelta(minutes=settings.VOICE_HOT_WINDOW_MINUTES)
        recent = Event.objects.filter(
            conversation_id=missed.conversation_id, kind="missed_call", occurred_at__gte=since
        ).count()
        if recent >= settings.VOICE_HOT_MISSED_CALLS:
            _escalate(missed, recent, phone=call.data.get("from", ""))
    return missed


def _escalate(missed: Event, count: int, *, phone: str) -> None:
    case = (
        Case.objects.filter(pk=missed.conversation.current_case_id).first()
        if missed.conversation.current_case_id
        else None
    )
    window = settings.VOICE_HOT_WINDOW_MINUTES
    if (
        case is None
        or cases.mark_hot(
            case,
            reason=f"{count} missed calls within {window} minutes",
            data={"missed_call": missed.pk},
        )
        is None
    ):
        return  # no case, or hot already: the offer went out (or was refused) then
    # one voice: the arbiter, not this adapter, decides whether and where the offer goes
    missed_call.offer_call_back(missed, phone=phone)
