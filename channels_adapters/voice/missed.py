"""Missed calls: an inbound call that ended before anyone answered or a message was left.

A missed call is a `missed_call` event (the voice context provider reads them as a
frustration signal). When the customer has missed VOICE_HOT_MISSED_CALLS calls within
VOICE_HOT_WINDOW_MINUTES, on any of their numbers (they are all one conversation), the
case becomes hot and the apps that answer that are told, in the same transaction, through
the `missed_call_hooks` they declare (VOICE_MISSED_CALL_HOOKS overrides them): engagement's
`missed_call` rule proposes a call-back offer to its arbiter, which decides with consent
and records its decision in the timeline; a refused offer is never sent to Twilio. This
adapter imports no app above it: engagement knows voice's event, not the other way round.

Twilio does not order a call's `completed` status callback and its voicemail's
`<Record>` action: either may come first. So the decision gives the same rows in any
order (docs/twilio.md, "Missed calls"):

1. `call_ended` (the final status, call row locked): answered, or a recording already
   there: not missed. Never offered voicemail: missed now.
2. Offered voicemail, no recording yet: the call waits (`awaiting_voicemail_since` in its
   data) and a task settles it after VOICEMAIL_GRACE.
3. `settle` (a recording callback, or that task, call row locked): a recording: not
   missed; Twilio says none was made (`RecordingStatus` absent), or the grace ran out:
   missed, dated when the call ended. A call no longer waiting is left alone, so repeats
   of any callback change nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from base import plugins
from conversations import cases, journal
from conversations.calls import annotate_call
from conversations.models import Case, Event

# Twilio posts the <Record> action as the call ends and the recording status within
# seconds: a caller who left a message is known well within this.
VOICEMAIL_GRACE = timedelta(minutes=2)
AWAITING = "awaiting_voicemail_since"
# RecordingStatus values that say no message will come.
NO_RECORDING = frozenset({"absent", "failed"})


def _left_a_message_or_talked(data: dict) -> bool:
    return bool(data.get("answered") or data.get("recording_url"))


def call_ended(call: Event) -> Event | None:
    """An inbound call reached a final status (its row locked by the caller): record the
    missed call now, wait for its voicemail, or do nothing; the missed event, if any."""
    data = call.data
    if _left_a_message_or_talked(data):
        return None
    now = timezone.now()
    if data.get("voicemail_offered") and data.get("recording_status") not in NO_RECORDING:
        annotate_call(call, **{AWAITING: now.isoformat()})
        _settle_later_on_commit(call.pk)
        return None
    return _record_missed(call, ended_at=now)


def settle(call_id: int, *, grace_over: bool = False) -> Event | None:
    """Decide a call that waits for its voicemail; the missed event, if it was missed."""
    with transaction.atomic():
        call = Event.objects.select_for_update(no_key=True).filter(pk=call_id).first()
        if call is None or AWAITING not in call.data:
            return None  # not waiting: decided already, or not ended yet
        data = dict(call.data)
        if _left_a_message_or_talked(data):
            _stop_waiting(call, data)
            return None
        if not grace_over and data.get("recording_status") not in NO_RECORDING:
            return None  # a transcript, say: the recording itself may still come
        ended_at = datetime.fromisoformat(data[AWAITING])
        _stop_waiting(call, data)
        return _record_missed(call, ended_at=ended_at)


def _stop_waiting(call: Event, data: dict) -> None:
    data.pop(AWAITING, None)
    Event.objects.filter(pk=call.pk).update(data=data)  # under the row lock
    call.data = data


def _settle_later_on_commit(call_id: int) -> None:
    from .tasks import settle_unanswered_call  # tasks imports this module

    transaction.on_commit(
        lambda: settle_unanswered_call.apply_async(
            (call_id,), countdown=VOICEMAIL_GRACE.total_seconds()
        ),
        robust=True,  # a broker outage must not fail the webhook; see docs/twilio.md
    )


def _record_missed(call: Event, *, ended_at: datetime) -> Event:
    """Record the missed call (once per call: its source id) and apply the hot rule."""
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
            occurred_at=ended_at,
        )
        annotate_call(call, missed=True)
        # counted back from when this call ended, so a late decision counts the same
        since = missed.occurred_at - timedelta(minutes=settings.VOICE_HOT_WINDOW_MINUTES)
        recent = Event.objects.filter(
            conversation_id=missed.conversation_id,
            kind="missed_call",
            occurred_at__gte=since,
            occurred_at__lte=missed.occurred_at,
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
    if case is not None:  # hot already (for any reason): mark_hot records nothing new
        cases.mark_hot(
            case,
            reason=f"{count} missed calls within {window} minutes",
            data={"missed_call": missed.pk},
        )
    # One rule (docs/twilio.md, "Missed calls"): every missed call that reaches the count
    # proposes a call-back offer, whatever made the case hot. Whether and where it goes is
    # decided by whoever declared a hook (engagement's arbiter, which sends one call-back
    # offer per customer within ENGAGEMENT_OFFER_ONCE_HOURS), not by this adapter.
    for hook in plugins.enabled("missed_call_hooks"):
        hook(missed, phone=phone)
