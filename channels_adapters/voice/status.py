"""Call progress: `/hooks/twilio/voice/status/`, Twilio's status callbacks and `<Dial>` outcomes.

Status callbacks (`CallStatus`: ringing, in-progress, completed, busy, no-answer,
canceled, failed, with `CallDuration` and `SequenceNumber`) arrive out of order and
sometimes twice; `calls.update_call_status` only moves forward, and a final status never
changes. When an inbound call ends without anyone answering, missed.py decides whether it
was missed or left a voicemail, the same whichever of this callback and the recording's
comes first. A `<Dial>`'s outcome (`DialCallStatus`) comes here too, as its `action`:
answered, the call ends; not answered, the caller gets voicemail. Callbacks about calls we
do not know get 204, so Twilio does not retry them.
"""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

from channels_adapters.twilio_form import TwilioForm
from channels_adapters.twilio_signature import twilio_webhook
from conversations.calls import CALL_STATUS_RANK, annotate_call, is_final, update_call_status
from conversations.models import Event

from . import missed, twiml
from .inbound import parse_call_sid

DIAL_STATUSES = frozenset({"completed", "answered", "busy", "no-answer", "failed", "canceled"})
MAX_SECONDS = 7 * 24 * 3600  # longer than any call Twilio lets last
MAX_SEQUENCE = 10**6


def find_call(sid: str, call_id: int | None = None) -> Event | None:
    """The call event by its CallSid or, for a call we started whose sid we may not have
    stored yet, by the event id in the callback URL (`?call=`)."""
    event = Event.objects.filter(channel=Event.Channel.VOICE, source_id=sid).first()
    if event is None and call_id is not None:
        event = Event.objects.filter(
            pk=call_id, channel=Event.Channel.VOICE, kind="call", direction=Event.Direction.OUT
        ).first()
        if event is not None and event.source_id not in (None, sid):
            return None  # the id belongs to another call
    return event


@twilio_webhook
def receive_status(request: HttpRequest) -> HttpResponse:
    form = TwilioForm(request.POST, request.GET)  # BadForm: 400 with the reason
    sid = parse_call_sid(form)
    # Counters are detail: an odd one is dropped, and the status still counts.
    sequence = form.integer("SequenceNumber", high=MAX_SEQUENCE, keep=False)
    duration = form.integer("CallDuration", high=MAX_SECONDS, keep=False)
    talk = form.integer("DialCallDuration", high=MAX_SECONDS, keep=False)
    call_id = form.query_id("call")
    if form.has("DialCallStatus"):
        return dial_outcome(sid, form.token("DialCallStatus", keep=False), talk, call_id)
    status = form.token("CallStatus", required=True)
    if status not in CALL_STATUS_RANK:
        return HttpResponse(status=204)
    with transaction.atomic():
        event = find_call(sid, call_id)
        if event is None:
            return HttpResponse(status=204)
        # the row stays locked to the end of this transaction: a recording arriving at the
        # same moment is applied before or after this, never half-way (missed.py)
        moved = update_call_status(event, status, sequence=sequence, duration=duration)
        if moved and is_final(status) and event.direction == Event.Direction.IN:
            missed.call_ended(event)
    return HttpResponse(status=204)


def dial_outcome(sid: str, status: str, talk: int | None, call_id: int | None) -> HttpResponse:
    if status not in DIAL_STATUSES:
        return HttpResponseBadRequest(
            f"DialCallStatus must be one of {', '.join(sorted(DIAL_STATUSES))}.\n",
            content_type="text/plain",
        )
    event = find_call(sid, call_id)
    answered = status in ("completed", "answered")
    inbound = event is not None and event.direction == Event.Direction.IN
    if event is not None:
        annotate_call(
            event,
            dial_status=status,
            **({"answered": True, "talk_seconds": talk or 0} if answered else {}),
            # voicemail_offered: the call's end waits for its recording (missed.py)
            **({"voicemail_offered": True} if inbound and not answered else {}),
        )
    if answered:
        return twiml.respond(twiml.goodbye())
    if event is not None and event.direction == Event.Direction.OUT:
        return twiml.respond(twiml.goodbye("The customer did not answer. Goodbye."))
    return twiml.respond(twiml.voicemail(twiml.NO_ANSWER))
