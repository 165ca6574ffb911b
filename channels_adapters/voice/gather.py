"""What the caller said or pressed (`/hooks/twilio/voice/gather/`), and where the call goes.

The greeting's `<Gather>` posts `SpeechResult` / `Digits` here (or nothing, when the
caller stayed silent). We keep it on the call event, then route: the agent of the open
case if available, else any available agent (a `<Dial>` whose outcome comes back to the
status URL), else voicemail.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse

from channels_adapters.twilio_form import TwilioForm
from channels_adapters.twilio_signature import twilio_webhook
from conversations.calls import annotate_call
from conversations.models import Event

from . import routing, twiml
from .inbound import parse_call_sid

logger = logging.getLogger(__name__)

MAX_SPEECH_CHARS = 1000


@twilio_webhook
def receive_gather(request: HttpRequest) -> HttpResponse:
    form = TwilioForm(request.POST)  # BadForm: 400 with the reason
    sid = parse_call_sid(form)
    digits = form.keypad("Digits")
    # What the caller said is detail: kept when it can be stored, cut to length, else
    # dropped; the caller is routed either way.
    speech = form.text("SpeechResult", max_chars=100 * MAX_SPEECH_CHARS, keep=False)
    speech = speech[:MAX_SPEECH_CHARS]
    try:
        return twiml.respond(
            route_call(sid, speech=speech, digits=digits, caller_id=form.caller("To"))
        )
    except DatabaseError:
        logger.warning("database unreachable: call %s sent to voicemail", sid)
        return twiml.respond(twiml.voicemail(twiml.DATABASE_DOWN))


def route_call(sid: str, *, speech: str, digits: str, caller_id: str) -> twiml.VoiceResponse:
    event = (
        Event.objects.filter(channel=Event.Channel.VOICE, source_id=sid)
        .select_related("case")
        .first()
    )
    if event is None:  # a call we never recorded (its first webhook went elsewhere)
        return twiml.voicemail(twiml.NO_ONE_FREE)
    said = {key: value for key, value in [("said", speech), ("digits", digits)] if value}
    agent = routing.choose_agent(event.case)
    if agent is None:
        # voicemail_offered: the call's end waits for its recording (missed.py)
        annotate_call(event, routed_to=None, voicemail_offered=True, **said)
        return twiml.voicemail(twiml.NO_ONE_FREE)
    annotate_call(event, routed_to=agent.user_id, **said)
    return twiml.connect(phone=agent.phone, caller_id=caller_id)
