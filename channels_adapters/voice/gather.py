"""What the caller said or pressed (`/hooks/twilio/voice/gather/`), and where the call goes.

The greeting's `<Gather>` posts `SpeechResult` / `Digits` here (or nothing, when the
caller stayed silent). We keep it on the call event, then route: the agent of the open
case if available, else any available agent (a `<Dial>` whose outcome comes back to the
status URL), else voicemail.

A stop is honoured here too (revocation by any reasonable means, docs/twilio.md): the
keypad's OPT_OUT_DIGIT, or words that are a stop ("stop calling me", "quítenme de su
lista"), opt every address of the caller out and end the call with a spoken
confirmation; words that may be one ("I'm not interested") are flagged for an agent and
the call is routed as usual.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse

from channels_adapters.twilio_form import TwilioForm
from channels_adapters.twilio_signature import twilio_webhook
from channels_adapters.voice import ringing
from conversations import consent, consent_review, revocation
from conversations.calls import annotate_call
from conversations.models import Event

from . import twiml
from .inbound import parse_call_sid

logger = logging.getLogger(__name__)

MAX_SPEECH_CHARS = 1000


@twilio_webhook(database_down=twiml.database_down)
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
    if (stopped := _stop_if_asked(event, speech=speech, digits=digits)) is not None:
        annotate_call(event, routed_to=None, opted_out=True, **said)
        return stopped
    agent = ringing.choose_agent(event.case)
    if agent is None:
        # voicemail_offered: the call's end waits for its recording (missed.py)
        annotate_call(event, routed_to=None, voicemail_offered=True, **said)
        return twiml.voicemail(twiml.NO_ONE_FREE)
    annotate_call(event, routed_to=agent.user_id, **said)
    return twiml.connect(phone=agent.phone, caller_id=caller_id)


def _stop_if_asked(event: Event, *, speech: str, digits: str) -> twiml.VoiceResponse | None:
    """The caller pressed the opt-out digit or said stop: opt them out, say so, hang up.
    Words that may be a stop are flagged for an agent (None: route the call)."""
    said = revocation.classify(speech)
    if digits == twiml.OPT_OUT_DIGIT or said.kind == revocation.DEFINITIVE:
        how = f"keypad {digits}" if digits == twiml.OPT_OUT_DIGIT else "speech"
        consent.opt_out_customer(
            event.conversation.customer,
            source=f"voice:{how}",
            channel=Event.Channel.VOICE,
            words=speech if how == "speech" else f"Pressed {digits} to stop calls and texts",
        )
        return twiml.goodbye(twiml.OPTED_OUT)
    if said:
        consent_review.flag_revocation(
            None,
            customer=event.conversation.customer,
            words=said.words,
            source="voice:possible stop",
            channel=Event.Channel.VOICE,
            message=event,
        )
    return None
