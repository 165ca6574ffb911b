"""Inbound WhatsApp: Twilio's webhook `/hooks/twilio/whatsapp/` into the journal.

Twilio posts a WhatsApp message as it posts a text (sms/inbound.py), with `whatsapp:`
addresses and fields of its own: `ProfileName` and `WaId` (the sender's WhatsApp name and
number), `MessageType` (text, image, location, button, ...), `Latitude` / `Longitude` /
`Address` / `Label` for a shared location, `ButtonText` / `ButtonPayload` for a template's
quick-reply button, `OriginalRepliedMessageSid` for an answer to one of our messages, and
`Referral*` for a click-to-WhatsApp ad. `parse_inbound_whatsapp` reads them strictly
(the shared twilio_form.py), then SMS's recorder does the rest the same way for both:
the sender's own identity (`whatsapp`, the same customer as that number's phone), STOP /
START on the WhatsApp identity's consent only, a stop in words through the revocation
classifier and the consent ledger, HELP, and `MessageSid` as the source id (a repeat
writes nothing). Media stay at Twilio, as for MMS (docs/twilio.md).

Each inbound message reopens WhatsApp's 24-hour window (window.py).
"""

from __future__ import annotations

import re

from django.http import HttpRequest, HttpResponse

from channels_adapters.sms.inbound import (
    MAX_BODY_CHARS,
    InboundSms,
    read_media,
    record_inbound_sms,
    twiml_reply,
)
from channels_adapters.twilio_form import BadForm, TwilioForm
from channels_adapters.twilio_signature import twilio_webhook
from conversations.models import Event, Identity

MAX_PROFILE_NAME_CHARS = 200
MAX_DETAIL_CHARS = 500
_DECIMAL = re.compile(r"-?[0-9]{1,3}(\.[0-9]{1,20})?")
MAX_COORDINATE = {"Latitude": 90.0, "Longitude": 180.0}


def parse_inbound_whatsapp(form: TwilioForm) -> InboundSms:
    """Read a WhatsApp message's fields; raise BadForm saying what is wrong."""
    sid = form.sid(["MessageSid", "SmsMessageSid", "SmsSid"])
    sender = form.address("From")
    if sender.kind != Identity.Kind.WHATSAPP:
        raise BadForm("From is not a whatsapp: address; texts go to /hooks/twilio/sms/.")
    to = form.address("To")
    body = form.text("Body", max_chars=MAX_BODY_CHARS)
    media = read_media(form)
    details: dict = {}
    # Detail only: a value we cannot keep is dropped, the message is kept.
    if name := form.text("ProfileName", max_chars=MAX_PROFILE_NAME_CHARS, keep=False):
        details["profile_name"] = name
    if message_type := form.token("MessageType", keep=False):
        details["message_type"] = message_type
    if location := _location(form):
        details["location"] = location
    if button := _button(form):
        details["button"] = button
    if replied_to := _replied_to(form):
        details["in_reply_to_sid"] = replied_to
    if referral := _referral(form):
        details["referral"] = referral
    if not body and location:
        body = "Shared a location: " + (
            location.get("label") or location.get("address") or _coordinates(location)
        )
    if not body and button:
        body = button.get("text") or button.get("payload", "")
    if not body and not media:
        raise BadForm("The message has neither a body, media nor a location.")
    return InboundSms(
        sid=sid,
        from_number=sender.value,
        sender_kind=sender.kind,
        to=to.value,
        body=body,
        media=media,
        segments=form.integer("NumSegments", low=1, high=100, keep=False),
        details=details,
    )


def _location(form: TwilioForm) -> dict:
    if not (form.has("Latitude") and form.has("Longitude")):
        return {}
    location = {}
    for name, limit in MAX_COORDINATE.items():
        raw = form.text(name, max_chars=32, required=True)
        if not _DECIMAL.fullmatch(raw):  # ASCII only: float() also reads "३" and "nan"
            raise BadForm(f"{name} is not a decimal number.")
        value = float(raw)
        if not -limit <= value <= limit:
            raise BadForm(f"{name} is not between -{limit:g} and {limit:g}.")
        location[name.lower()] = value
    for name in ("Address", "Label"):
        if value := form.text(name, max_chars=MAX_DETAIL_CHARS, keep=False):
            location[name.lower()] = value
    return location


def _replied_to(form: TwilioForm) -> str:
    """The SID of our message the customer answered (WhatsApp's reply): detail only."""
    try:
        return form.sid("OriginalRepliedMessageSid", required=False)
    except BadForm:
        return ""


def _coordinates(location: dict) -> str:
    return f"{location['latitude']:.5f}, {location['longitude']:.5f}"


def _button(form: TwilioForm) -> dict:
    button = {}
    for name, key in (("ButtonText", "text"), ("ButtonPayload", "payload")):
        if value := form.text(name, max_chars=MAX_DETAIL_CHARS, keep=False):
            button[key] = value
    return button


def _referral(form: TwilioForm) -> dict:
    """A click-to-WhatsApp ad the customer came from (what marketing asks about)."""
    referral = {}
    for name, key in (
        ("ReferralSourceType", "source_type"),
        ("ReferralSourceId", "source_id"),
        ("ReferralHeadline", "headline"),
        ("ReferralCtwaClid", "ctwa_clid"),
    ):
        if value := form.text(name, max_chars=MAX_DETAIL_CHARS, keep=False):
            referral[key] = value
    if url := form.text("ReferralSourceUrl", max_chars=MAX_DETAIL_CHARS, keep=False):
        referral["source_url"] = url
    return referral


def record_inbound_whatsapp(message: InboundSms) -> tuple[Event, str]:
    """Record one WhatsApp message in the sender's conversation; return (event, the
    answer for the TwiML). The rules are the messaging ones (sms/inbound.py): one verb."""
    return record_inbound_sms(message)


def receive_form(form: TwilioForm) -> HttpResponse:
    """A signed WhatsApp form, from this adapter's URL or the SMS one (sms/inbound.py)."""
    message = parse_inbound_whatsapp(form)  # BadForm: 400 with the reason
    _, answer = record_inbound_whatsapp(message)
    return twiml_reply(answer)


@twilio_webhook
def receive_whatsapp(request: HttpRequest) -> HttpResponse:
    return receive_form(TwilioForm(request.POST))
