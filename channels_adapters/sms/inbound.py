"""Inbound SMS and MMS: Twilio's messaging webhook `/hooks/twilio/sms/` into the journal.

`receive_sms` (the view) checks the request, parses Twilio's form into an `InboundSms`
and hands it to `record_inbound_sms`, which resolves the customer by the sending number
and records one event: a `message`, or a `consent` event for STOP / START. The answer is
TwiML: empty, or the help text (with the preference page's link) for HELP. Twilio may
deliver one message more than once (retries, a fallback URL): the `MessageSid` is the
event's source id, so a repeat writes nothing and gets the same answer.

Media (MMS) stay at Twilio: the event keeps each `MediaUrl` and content type. They are
served by api.twilio.com to the account's credentials only (docs/twilio.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from twilio.twiml.messaging_response import MessagingResponse

from channels_adapters.twilio_signature import twilio_webhook
from conversations import consent, journal
from conversations.identities import InvalidIdentity, normalize_phone, resolve_customer
from conversations.models import Customer, Event, Identity

from . import keywords

# Two letters (SM, MM; SMS/MMS and the older Sms fields) and 32 hex digits.
MESSAGE_SID = re.compile(r"^[A-Z]{2}[0-9a-f]{32}$")
MAX_MEDIA = 10  # Twilio's own limit per message
MAX_BODY_CHARS = 1600  # Twilio's limit for one (concatenated) message
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'


class BadMessage(ValueError):
    """The form is not a Twilio inbound message; the view answers 400 with this reason."""


@dataclass(frozen=True)
class InboundSms:
    sid: str
    from_number: str  # E.164
    to: str
    body: str
    media: list[dict] = field(default_factory=list)  # [{"url": ..., "content_type": ...}]
    opt_out_type: str = ""
    segments: int | None = None


def parse_inbound_sms(form) -> InboundSms:
    """Read Twilio's inbound message fields; raise BadMessage saying what is wrong."""
    sid = form.get("MessageSid") or form.get("SmsMessageSid") or ""
    if not MESSAGE_SID.match(sid):
        raise BadMessage("MessageSid is missing or malformed.")
    raw_from, to = form.get("From", ""), form.get("To", "")
    if not raw_from or not to:
        raise BadMessage("From and To are required.")
    try:
        from_number = normalize_phone(raw_from)
    except InvalidIdentity:
        raise BadMessage("From is not a phone number Throughline can read.") from None
    if len(to) > 64:
        raise BadMessage("To is too long.")
    body = form.get("Body", "")
    if len(body) > MAX_BODY_CHARS:
        raise BadMessage(f"Body is longer than {MAX_BODY_CHARS} characters.")
    try:
        num_media = int(form.get("NumMedia") or 0)
    except ValueError:
        raise BadMessage("NumMedia is not a number.") from None
    if not 0 <= num_media <= MAX_MEDIA:
        raise BadMessage(f"NumMedia must be between 0 and {MAX_MEDIA}.")
    media = []
    for n in range(num_media):
        url = form.get(f"MediaUrl{n}", "")
        if not url.startswith("https://") or len(url) > 1000:
            raise BadMessage(f"MediaUrl{n} is missing or not an https URL.")
        media.append({"url": url, "content_type": form.get(f"MediaContentType{n}", "")[:100]})
    if not body and not media:
        raise BadMessage("The message has neither a body nor media.")
    segments = form.get("NumSegments", "")
    return InboundSms(
        sid=sid,
        from_number=from_number,
        to=to,
        body=body,
        media=media,
        opt_out_type=form.get("OptOutType", "")[:16],
        segments=int(segments) if segments.isdigit() else None,
    )


def record_inbound_sms(message: InboundSms) -> tuple[Event, str]:
    """Record one inbound text in the sender's conversation; return (event, the answer to
    send back in the TwiML: the help text for HELP, else "").

    STOP / START change the phone identity's consent and are themselves the `consent`
    event; everything else, HELP included, is a `message` (which opens a case).
    """
    keyword = keywords.classify(message.body, message.opt_out_type)
    if keyword in (keywords.STOP, keywords.START):
        # A repeat must not replay an old STOP over a newer START: look before acting.
        if existing := Event.objects.filter(
            channel=Event.Channel.SMS, source_id=message.sid
        ).first():
            return existing, keyword
        resolve_customer(Identity.Kind.PHONE, message.from_number)  # a first text may be STOP
        identity = Identity.objects.get(kind=Identity.Kind.PHONE, value=message.from_number)
        change = consent.opt_out if keyword == keywords.STOP else consent.opt_in
        event = change(
            identity,
            source=f"sms:{keywords.spoken_word(message.body)[:20] or keyword}",
            channel=Event.Channel.SMS,
            direction=Event.Direction.IN,
            body=message.body,
            source_id=message.sid,
        )
        return event, ""
    data: dict = {"from": message.from_number, "to": message.to}
    if message.media:
        data["media"] = message.media
    if message.segments:
        data["segments"] = message.segments
    if keyword:
        data["keyword"] = keyword
    event = journal.record(
        identity=(Identity.Kind.PHONE, message.from_number),  # known senders: one statement
        channel=Event.Channel.SMS,
        kind="message",
        direction=Event.Direction.IN,
        body=message.body,
        data=data,
        source_id=message.sid,
    )
    answer = ""
    if keyword == keywords.HELP:
        # with the link to their preference page (a link needs only the customer's id)
        answer = keywords.help_reply(Customer(pk=event.conversation.customer_id))
    if answer:
        # The answer goes back in the TwiML; the timeline shows what the customer was told.
        journal.record(
            identity=(Identity.Kind.PHONE, message.from_number),
            channel=Event.Channel.SMS,
            kind="message",
            direction=Event.Direction.OUT,
            body=answer,
            data={"auto_reply": "help", "in_reply_to": event.pk},
            source_id=f"{message.sid}:help",
            delivery_status="queued",
        )
    return event, answer


def twiml_reply(answer: str) -> HttpResponse:
    if answer:
        reply = MessagingResponse()
        reply.message(answer)
        return HttpResponse(str(reply), content_type="text/xml")
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")


@twilio_webhook
def receive_sms(request: HttpRequest) -> HttpResponse:
    try:
        message = parse_inbound_sms(request.POST)
    except BadMessage as exc:
        return HttpResponseBadRequest(f"{exc}\n", content_type="text/plain")
    _, answer = record_inbound_sms(message)
    return twiml_reply(answer)
