"""Call progress: `/hooks/twilio/voice/status/`, Twilio's status callbacks and `<Dial>` outcomes.

Status callbacks (`CallStatus`: ringing, in-progress, completed, busy, no-answer,
canceled, failed, with `CallDuration` and `SequenceNumber`) arrive out of order and
sometimes twice; `calls.update_call_status` only moves forward, and a final status never
changes. When an inbound call ends without anyone answering, it is a missed call
(missed.py). A `<Dial>`'s outcome (`DialCallStatus`) comes here too, as its `action`:
answered, the call ends; not answered, the caller gets voicemail. Callbacks about calls we
do not know get 204, so Twilio does not retry them.
"""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

from channels_adapters.twilio_signature import twilio_webhook
from conversations.calls import CALL_STATUS_RANK, annotate_call, is_final, update_call_status
from conversations.models import Event

from . import missed, twiml
from .inbound import BadCall, parse_call_sid

DIAL_STATUSES = frozenset({"completed", "answered", "busy", "no-answer", "failed", "canceled"})


def _number(form, name: str) -> int | None:
    value = form.get(name, "")
    if not value:
        return None
    if not value.isdigit() or len(value) > 9:
        raise BadCall(f"{name} is not a number.")
    return int(value)


def find_call(sid: str, call_id: str = "") -> Event | None:
    """The call event by its CallSid or, for a call we started whose sid we may not have
    stored yet, by the event id in the callback URL (`?call=`)."""
    event = Event.objects.filter(channel=Event.Channel.VOICE, source_id=sid).first()
    if event is None and call_id.isdigit():
        event = Event.objects.filter(
            pk=int(call_id), channel=Event.Channel.VOICE, kind="call", direction=Event.Direction.OUT
        ).first()
        if event is not None and event.source_id not in (None, sid):
            return None  # the id belongs to another call
    return event


@twilio_webhook
def receive_status(request: HttpRequest) -> HttpResponse:
    form = request.POST
    try:
        sid = parse_call_sid(form)
        sequence = _number(form, "SequenceNumber")
        duration = _number(form, "CallDuration")
        talk = _number(form, "DialCallDuration")
    except BadCall as exc:
        return HttpResponseBadRequest(f"{exc}\n", content_type="text/plain")
    call_id = request.GET.get("call", "")
    if "DialCallStatus" in form:
        return dial_outcome(sid, form["DialCallStatus"].lower(), talk, call_id)
    status = form.get("CallStatus", "").lower()
    if not status:
        return HttpResponseBadRequest("CallStatus is required.\n", content_type="text/plain")
    if status not in CALL_STATUS_RANK:
        return HttpResponse(status=204)
    with transaction.atomic():
        event = find_call(sid, call_id)
        if event is None:
            return HttpResponse(status=204)
        moved = update_call_status(event, status, sequence=sequence, duration=duration)
        if moved and is_final(status) and event.direction == Event.Direction.IN:
            missed.record_if_missed(event)
    return HttpResponse(status=204)


def dial_outcome(sid: str, status: str, talk: int | None, call_id: str) -> HttpResponse:
    if status not in DIAL_STATUSES:
        return HttpResponseBadRequest("DialCallStatus is unknown.\n", content_type="text/plain")
    event = find_call(sid, call_id)
    answered = status in ("completed", "answered")
    if event is not None:
        annotate_call(
            event,
            dial_status=status,
            **({"answered": True, "talk_seconds": talk or 0} if answered else {}),
        )
    if answered:
        return twiml.respond(twiml.goodbye())
    if event is not None and event.direction == Event.Direction.OUT:
        return twiml.respond(twiml.goodbye("The customer did not answer. Goodbye."))
    return twiml.respond(twiml.voicemail(twiml.NO_ANSWER))
