"""Inbound calls: Twilio's voice webhook `/hooks/twilio/voice/` into the journal, and TwiML back.

`receive_call` checks the request, resolves the caller by `From`, reads the customer
context and records one `call` event (the `CallSid` as its source id, so a repeated
webhook writes nothing). The answer greets the caller as someone we know and gathers
what the call is about (gather.py routes it); after the called number's business hours
it takes a voicemail instead. If the database cannot be reached, the caller still hears
an apology and can leave a message: never Twilio's "an application error has occurred".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from channels_adapters.numbers.webhooks import receiving
from channels_adapters.twilio_form import BadForm, TwilioForm
from channels_adapters.twilio_signature import twilio_webhook
from channels_adapters.voice import ringing
from conversations import journal
from conversations.calls import CALL_STATUS_RANK, annotate_call
from conversations.context import Headline, headline_for
from conversations.models import Event, Identity

from . import twiml

logger = logging.getLogger(__name__)

MAX_NUMBER_CHARS = 64


@dataclass(frozen=True)
class InboundCall:
    sid: str
    from_number: str  # E.164, or "" when the caller hides it
    to: str
    status: str
    caller_name: str = ""  # CNAM, when the number has caller-name lookup on


def parse_call_sid(form: TwilioForm) -> str:
    return form.sid("CallSid", prefixes=["CA"])


def parse_inbound_call(form: TwilioForm) -> InboundCall:
    """Read Twilio's voice request; raise BadForm saying what is wrong."""
    sid = parse_call_sid(form)
    if not form.has("From") or not form.has("To"):
        raise BadForm("From and To are required.")
    status = form.token("CallStatus", keep=False)
    return InboundCall(
        sid=sid,
        # "anonymous", "restricted", a SIP address: a caller we cannot know, still answered
        from_number=form.caller("From"),
        # our own number, for its business hours; an unreadable one is dropped, not refused,
        # so the caller is still answered
        to=form.text("To", max_chars=MAX_NUMBER_CHARS, keep=False),
        status=status if status in CALL_STATUS_RANK else "ringing",
        # a name for the customer's header (conversations/names.py); never required
        caller_name=form.text("CallerName", max_chars=MAX_NUMBER_CHARS, keep=False),
    )


def answer_call(call: InboundCall, *, store: str = "") -> twiml.VoiceResponse | str:
    """Record the call in the caller's conversation and say what they hear first (`store`:
    the name of the store whose number was called; its hours are asked by number)."""
    hours = ringing.business_hours(call.to)
    if not call.from_number:
        # nobody to attach the call to: take a message, which lands in Twilio's logs only
        return (
            twiml.after_hours(hours["description"])
            if hours and not hours["open"]
            else (twiml.voicemail(twiml.NO_ONE_FREE))
        )
    started = timezone.now()
    # Before the call opens a case of its own: one query. Recording the call by identity is
    # one statement more, for a known caller and a new one alike (journal.record).
    context = headline_for(Identity.Kind.PHONE, call.from_number)
    event = journal.record(
        identity=(Identity.Kind.PHONE, call.from_number),
        channel=Event.Channel.VOICE,
        kind="call",
        direction=Event.Direction.IN,
        body="Incoming call",
        data={
            "from": call.from_number,
            "to": call.to,
            "status": call.status,
            **({"caller_name": call.caller_name} if call.caller_name else {}),
        },
        source_id=call.sid,
        delivery_status=call.status,
        unknown_sender=context is None,  # nobody has this number: create them at once
    )
    if context is None:  # a first call: nothing known to greet them with yet
        context = Headline(customer_id=event.conversation.customer_id, name="")
    if hours and not hours["open"]:
        annotate_call(event, after_hours=True, voicemail_offered=True)
        return twiml.after_hours(hours["description"])
    case = context.open_case
    repeat = event.recorded_at < started
    if repeat and case and case.pk == event.case_id and case.opened_at >= event.recorded_at:
        # a repeated webhook: the case is this very call's, so greet as the first time
        context = replace(context, open_case=None)
    return twiml.answer_xml(twiml.greeting(context, store=store))


@twilio_webhook(database_down=twiml.database_down)
def receive_call(request: HttpRequest) -> HttpResponse:
    call = parse_inbound_call(TwilioForm(request.POST))  # BadForm: 400 with the reason
    try:
        number = receiving.get()  # the gate's: our number called, None without rows
        return twiml.respond(answer_call(call, store=number.store_name if number else ""))
    except DatabaseError:
        # the call id only: never the caller's number
        logger.warning("database unreachable: call %s answered with voicemail", call.sid)
        return twiml.respond(twiml.voicemail(twiml.DATABASE_DOWN))
