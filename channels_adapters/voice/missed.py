"""Missed calls: an inbound call that ended before anyone answered or a message was left.

`record_if_missed` records a `missed_call` event (the voice context provider reads them as
a frustration signal). When the customer has missed VOICE_HOT_MISSED_CALLS calls within
VOICE_HOT_WINDOW_MINUTES, on any of their numbers (they are all one conversation), the
case becomes hot and a call-back offer is proposed by SMS through the outbox, whose
consent rules apply: a refusal is recorded in the timeline, never sent to Twilio.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from conversations import cases, journal, outbox
from conversations.calls import annotate_call
from conversations.models import Case, Event

CALL_BACK_OFFER = "call_back_offer"


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
    customer = missed.conversation.customer
    try:
        outbox.send(
            customer=customer,
            channel=Event.Channel.SMS,
            body=settings.VOICE_CALL_BACK_OFFER,
            to=phone or None,
            data={"proposal": CALL_BACK_OFFER, "missed_call": missed.pk},
        )
    except outbox.Refused as exc:
        journal.record(
            customer=customer,
            channel=Event.Channel.SYSTEM,
            kind="nudge",
            direction=Event.Direction.INTERNAL,
            body=f"Call-back offer not sent: {exc}",
            data={"proposal": CALL_BACK_OFFER, "sent": False, "reason": str(exc)},
        )
