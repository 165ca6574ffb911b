"""Voicemail recordings and transcripts: `/hooks/twilio/voice/recording/`.

Three kinds of request come here for one `<Record>`: its `action` (when the caller
finishes), the recording status callback (`completed`, or `absent` when nothing was
recorded) and the transcription callback, in any order, and the call's own `completed`
status may come before or after any of them. Each merges what it carries into the call
event's data (`recording_url`, `recording_sid`, `recording_duration`, `recording_status`,
`transcript`, `transcription_status`; the keys do not overlap), then lets missed.py
settle a call that waits for its voicemail. Every answer is TwiML that thanks the caller
and hangs up (Twilio ignores it for the callbacks).
"""

from __future__ import annotations

import logging

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse

from channels_adapters.twilio_form import TwilioForm
from channels_adapters.twilio_signature import twilio_webhook
from conversations.calls import annotate_call

from . import missed, twiml
from .inbound import parse_call_sid
from .status import MAX_SECONDS, find_call

logger = logging.getLogger(__name__)

MAX_TRANSCRIPT_CHARS = 10_000


def parse_recording(form: TwilioForm) -> dict:
    """What one recording request carries, as call-event data; BadForm for a bad SID or URL."""
    fields: dict = {}
    status = form.token("RecordingStatus", keep=False)
    if status:
        fields["recording_status"] = status
    if sid := form.sid("RecordingSid", prefixes=["RE"], required=False):
        fields["recording_sid"] = sid
    url = form.url("RecordingUrl")
    if url and status not in missed.NO_RECORDING:
        fields["recording_url"] = url  # a message was left: this call is a voicemail
        # Twilio writes -1 for a length it does not know; any other odd value is dropped
        duration = form.integer("RecordingDuration", high=MAX_SECONDS, keep=False)
        if form.text("RecordingDuration", max_chars=8, keep=False) == "-1":
            duration = 0
        if duration is not None:
            fields["recording_duration"] = duration
    transcription = form.token("TranscriptionStatus", keep=False)
    if transcription:
        fields["transcription_status"] = transcription
        if transcription == "completed":
            # a transcript is detail: cut to length, dropped when it cannot be stored
            text = form.text("TranscriptionText", max_chars=10 * MAX_TRANSCRIPT_CHARS, keep=False)
            fields["transcript"] = text[:MAX_TRANSCRIPT_CHARS]
    return fields


@twilio_webhook(database_down=twiml.database_down_goodbye)
def receive_recording(request: HttpRequest) -> HttpResponse:
    form = TwilioForm(request.POST, request.GET)  # BadForm: 400 with the reason
    sid = parse_call_sid(form)
    fields = parse_recording(form)
    try:
        event = find_call(sid, form.query_id("call"))
        if event is not None and fields:
            if "recording_url" in fields:
                fields["voicemail"] = True
            annotate_call(event, **fields)
            missed.settle(event.pk)
    except DatabaseError:
        # ids only: the recording stays at Twilio, where an operator can find it
        logger.warning(
            "database unreachable: recording %s of call %s not attached",
            fields.get("recording_sid", "-"),
            sid,
        )
    return twiml.respond(twiml.goodbye())
