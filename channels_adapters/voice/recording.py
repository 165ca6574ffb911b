"""Voicemail recordings and transcripts: `/hooks/twilio/voice/recording/`.

Three kinds of request come here for one `<Record>`: its `action` (when the caller
finishes), the recording status callback and the transcription callback, in any order.
Each merges what it carries into the call event's data (`recording_url`,
`recording_sid`, `recording_duration`, `transcript`, `transcription_status`); the keys
do not overlap, so the order does not matter. Every answer is TwiML that thanks the
caller and hangs up (Twilio ignores it for the callbacks).
"""

from __future__ import annotations

import logging
import re

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

from channels_adapters.twilio_signature import twilio_webhook
from conversations.calls import annotate_call

from . import twiml
from .inbound import BadCall, parse_call_sid
from .status import find_call

logger = logging.getLogger(__name__)

RECORDING_SID = re.compile(r"^RE[0-9a-f]{32}$")
MAX_TRANSCRIPT_CHARS = 10_000


def parse_recording(form) -> dict:
    fields: dict = {}
    if url := form.get("RecordingUrl", ""):
        if not url.startswith("https://") or len(url) > 1000:
            raise BadCall("RecordingUrl is not an https URL.")
        fields["recording_url"] = url
    if sid := form.get("RecordingSid", ""):
        if not RECORDING_SID.match(sid):
            raise BadCall("RecordingSid is malformed.")
        fields["recording_sid"] = sid
    if duration := form.get("RecordingDuration", ""):
        if not duration.lstrip("-").isdigit() or len(duration) > 9:
            raise BadCall("RecordingDuration is not a number.")
        fields["recording_duration"] = max(0, int(duration))
    transcription = form.get("TranscriptionStatus", "").lower()
    if transcription:
        fields["transcription_status"] = transcription[:16]
        if transcription == "completed":
            fields["transcript"] = form.get("TranscriptionText", "")[:MAX_TRANSCRIPT_CHARS]
    return fields


@twilio_webhook
def receive_recording(request: HttpRequest) -> HttpResponse:
    try:
        sid = parse_call_sid(request.POST)
        fields = parse_recording(request.POST)
    except BadCall as exc:
        return HttpResponseBadRequest(f"{exc}\n", content_type="text/plain")
    try:
        event = find_call(sid, request.GET.get("call", ""))
        if event is not None and fields:
            annotate_call(event, voicemail=True, **fields)
    except DatabaseError:
        # ids only: the recording stays at Twilio, where an operator can find it
        logger.warning(
            "database unreachable: recording %s of call %s not attached",
            fields.get("recording_sid", "-"),
            sid,
        )
    return twiml.respond(twiml.goodbye())
