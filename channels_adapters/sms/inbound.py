"""Inbound SMS and MMS: Twilio's messaging webhook `/hooks/twilio/sms/` into the journal.

`receive_sms` (the view) checks the request, reads Twilio's form strictly (twilio_form.py)
into an `InboundSms` and hands it to `record_inbound_sms`, which resolves the customer by
the sender and records one event: a `message`, or a `consent` event for STOP / START
and for a stop in other words ("please stop texting me": keywords.revocation), which is
answered with the one confirmation allowed. A message that may be a stop ("Can I stop by
tomorrow?") is a `message` with a flag: marketing halts until an agent decides.
The sender is an identity of its own kind: a phone, a short code or an alphanumeric id
(channel `sms`), or a WhatsApp account (`whatsapp:+1...`, channel `whatsapp`, the same
customer as that phone number): the WhatsApp adapter records through `record_inbound_sms`
too, and a `whatsapp:` form posted here is handed to it (docs/whatsapp.md). The answer is
TwiML: empty, or the help text (with the preference page's link) for HELP. Twilio may
deliver one message more than once (retries, a fallback URL): the `MessageSid` is the
event's source id, so a repeat writes nothing and gets the same answer.

Media (MMS) stay at Twilio: the event keeps each `MediaUrl` and content type. They are
served by api.twilio.com to the account's credentials only (docs/twilio.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from twilio.twiml.messaging_response import MessagingResponse

from channels_adapters.twilio_form import Address, BadForm, TwilioForm
from channels_adapters.twilio_signature import twilio_webhook
from conversations import consent, consent_review, journal, revocation
from conversations.identities import WHATSAPP_PREFIX, join_sibling, resolve_customer
from conversations.models import Customer, Event, Identity

from . import keywords

MAX_MEDIA = 10  # Twilio's own limit per message
MAX_BODY_CHARS = 1600  # Twilio's limit for one (concatenated) message
MAX_CONTENT_TYPE_CHARS = 100
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'
# A sender's kind decides the channel: a WhatsApp account is a channel of its own, whose
# STOP stops WhatsApp only; short codes and alphanumeric ids are senders of SMS.
CHANNEL_OF: dict[str, str] = {
    Identity.Kind.PHONE: Event.Channel.SMS,
    Identity.Kind.SHORT_CODE: Event.Channel.SMS,
    Identity.Kind.ALPHANUMERIC: Event.Channel.SMS,
    Identity.Kind.WHATSAPP: Event.Channel.WHATSAPP,
}


@dataclass(frozen=True)
class InboundSms:
    sid: str
    from_number: str  # E.164 for a phone or WhatsApp; else the short code or sender id
    to: str
    body: str
    media: list[dict] = field(default_factory=list)  # [{"url": ..., "content_type": ...}]
    opt_out_type: str = ""
    segments: int | None = None
    sender_kind: str = Identity.Kind.PHONE
    details: dict = field(default_factory=dict)  # the channel's own (WhatsApp: profile, ...)

    @property
    def sender(self) -> Address:
        return Address(self.sender_kind, self.from_number)

    @property
    def channel(self) -> str:
        return CHANNEL_OF[self.sender.kind]


def read_media(form: TwilioForm) -> list[dict]:
    """The message's media as Twilio lists them (NumMedia, MediaUrlN, MediaContentTypeN)."""
    num_media = form.integer("NumMedia", low=0, high=MAX_MEDIA) or 0
    return [
        {
            "url": form.url(f"MediaUrl{n}", required=True),
            "content_type": form.text(f"MediaContentType{n}", max_chars=MAX_CONTENT_TYPE_CHARS),
        }
        for n in range(num_media)
    ]


def parse_inbound_sms(form: TwilioForm) -> InboundSms:
    """Read Twilio's inbound message fields; raise BadForm saying what is wrong."""
    sid = form.sid(["MessageSid", "SmsMessageSid", "SmsSid"])
    sender = form.address("From")
    to = form.address("To")  # our number (or whatsapp: number, or short code)
    body = form.text("Body", max_chars=MAX_BODY_CHARS)
    media = read_media(form)
    if not body and not media:
        raise BadForm("The message has neither a body nor media.")
    return InboundSms(
        sid=sid,
        from_number=sender.value,
        sender_kind=sender.kind,
        to=to.value,
        body=body,
        media=media,
        opt_out_type=form.token("OptOutType"),
        # how Twilio billed it: detail only, so an odd value is dropped, not refused
        segments=form.integer("NumSegments", low=1, high=100, keep=False),
    )


def record_inbound_sms(message: InboundSms) -> tuple[Event, str]:
    """Record one inbound text in the sender's conversation; return (event, the answer to
    send back in the TwiML: the help text for HELP, else "").

    STOP / START, and a stop in other words, change the sending identity's consent (the
    WhatsApp account's for a WhatsApp message, never the phone's) and are themselves the
    `consent` event; everything else, HELP included, is a `message` (which opens a case),
    flagged for an agent when it may be a stop.
    """
    sender = (message.sender.kind, message.sender.value)
    keyword = keywords.classify(message.body, message.opt_out_type)
    said = keywords.revocation(message.body, message.opt_out_type)
    if said.kind == revocation.DEFINITIVE:
        return _revoke(message, sender, said)
    if keyword in (keywords.STOP, keywords.START):
        # A repeat must not replay an old STOP over a newer START: look before acting.
        if existing := Event.objects.filter(channel=message.channel, source_id=message.sid).first():
            return existing, keyword
        resolve_customer(*sender)  # a first text may be STOP
        identity = Identity.objects.get(kind=sender[0], value=sender[1])
        change = consent.opt_out if keyword == keywords.STOP else consent.opt_in
        event = change(
            identity,
            source=f"{message.channel}:{keywords.spoken_word(message.body)[:20] or keyword}",
            channel=message.channel,
            direction=Event.Direction.IN,
            body=message.body,
            source_id=message.sid,
        )
        _join_sibling(event, sender)
        return event, ""
    data: dict = {"from": message.from_number, "to": message.to, **message.details}
    if message.sender.kind != Identity.Kind.PHONE:
        data["sender_kind"] = message.sender.kind
    if message.media:
        data["media"] = message.media
    if message.segments:
        data["segments"] = message.segments
    if keyword:
        data["keyword"] = keyword
    if said:  # an ambiguous stop: the message and its flag, or neither
        data["revocation"] = said.kind
        with transaction.atomic():
            event = _record_message(message, sender, data)
            if not Event.objects.filter(
                conversation_id=event.conversation_id, kind="consent", data__message=event.pk
            ).exists():  # a repeated delivery is flagged once
                consent_review.flag_revocation(
                    Identity.objects.get(kind=sender[0], value=sender[1]),
                    words=said.words,
                    source=f"{message.channel}:possible stop",
                    channel=message.channel,
                    message=event,
                )
    else:
        event = _record_message(message, sender, data)
    _join_sibling(event, sender)
    answer = ""
    if keyword == keywords.HELP and message.sender.kind != Identity.Kind.ALPHANUMERIC:
        # with the link to their preference page (a link needs only the customer's id)
        answer = keywords.help_reply(Customer(pk=event.conversation.customer_id))
    if answer:
        # The answer goes back in the TwiML; the timeline shows what the customer was told.
        journal.record(
            identity=sender,
            channel=message.channel,
            kind="message",
            direction=Event.Direction.OUT,
            body=answer,
            data={"auto_reply": "help", "in_reply_to": event.pk},
            source_id=f"{message.sid}:help",
            delivery_status="queued",
        )
    return event, answer


def _record_message(message: InboundSms, sender: tuple[str, str], data: dict) -> Event:
    return journal.record(
        identity=sender,  # known senders: one statement
        channel=message.channel,
        kind="message",
        direction=Event.Direction.IN,
        body=message.body,
        data=data,
        source_id=message.sid,
    )


def _revoke(
    message: InboundSms, sender: tuple[str, str], said: revocation.Revocation
) -> tuple[Event, str]:
    """A stop in words ("please stop texting me"): the number opts out, the message is the
    `consent` event, and the answer is the one confirmation the FCC allows (the first time
    only: a number already opted out is not texted again, nor a sender id that cannot
    receive). Twilio did not see a keyword, so it neither blocks nor confirms."""
    confirmation_id = f"{message.sid}:confirmation"
    if existing := Event.objects.filter(channel=message.channel, source_id=message.sid).first():
        # Twilio retries when our answer did not reach it: answer the same, once more
        sent = Event.objects.filter(channel=message.channel, source_id=confirmation_id).first()
        return existing, sent.body if sent else ""
    resolve_customer(*sender)  # a first text may be a stop
    identity = Identity.objects.get(kind=sender[0], value=sender[1])
    with transaction.atomic():
        event = consent.opt_out(
            identity,
            source=f"{message.channel}:revocation",
            channel=message.channel,
            direction=Event.Direction.IN,
            body=message.body,
            source_id=message.sid,
            proof=consent.Proof(text=message.body),
        )
        answer = keywords.revocation_confirmation()
        if not (event.data["changed"] and answer) or (
            message.sender.kind == Identity.Kind.ALPHANUMERIC
        ):
            return event, ""
        journal.record(
            customer=identity.customer,
            channel=message.channel,
            kind="message",
            direction=Event.Direction.OUT,
            body=answer,
            data={"auto_reply": "revocation_confirmation", "in_reply_to": event.pk},
            source_id=confirmation_id,
            delivery_status="queued",
        )
    _join_sibling(event, sender)
    return event, answer


def _join_sibling(event: Event, sender: tuple[str, str]) -> None:
    """A first contact by phone or WhatsApp joins the customer who has the same number on
    the other channel (only a conversation's first event can be such a contact)."""
    if event.seq == 1:
        join_sibling(event.conversation.customer_id, *sender)


def is_whatsapp(form) -> bool:
    """A WhatsApp message or status callback, whichever webhook Twilio posted it to."""
    return any(
        form.get(name, "")[: len(WHATSAPP_PREFIX)].lower() == WHATSAPP_PREFIX
        for name in ("From", "To")
    )


def twiml_reply(answer: str) -> HttpResponse:
    if answer:
        reply = MessagingResponse()
        reply.message(answer)
        return HttpResponse(str(reply), content_type="text/xml")
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")


@twilio_webhook
def receive_sms(request: HttpRequest) -> HttpResponse:
    if is_whatsapp(request.POST):
        # A WhatsApp sender set up with this URL (the sandbox's default, or one configured
        # before /hooks/twilio/whatsapp/ existed) is WhatsApp all the same: read and recorded
        # exactly as at that URL, never as SMS (docs/whatsapp.md).
        from channels_adapters.whatsapp.inbound import receive_form  # it imports us

        return receive_form(TwilioForm(request.POST))
    message = parse_inbound_sms(TwilioForm(request.POST))  # BadForm: 400 with the reason
    _, answer = record_inbound_sms(message)
    return twiml_reply(answer)
