"""The one door to Twilio for WhatsApp messages, and its stand-ins (setting `WHATSAPP_BACKEND`).

As for SMS (sms/backends.py, the same REST client): `TwilioBackend` in production (chosen
when the Twilio credentials are set), `ConsoleBackend` for the quick start (prints what
would be sent), `LocmemBackend` under pytest (`LocmemBackend.sent`). A message is either
free text (`body`, inside the 24-hour window) or an approved template (`content_sid` with
`content_variables`, any time): Twilio takes one or the other.
"""

from __future__ import annotations

import json
import sys
import threading
import uuid
from dataclasses import dataclass, field

from django.conf import settings

from channels_adapters.sms.backends import PERMANENT_ERRORS as SMS_PERMANENT_ERRORS
from channels_adapters.sms.backends import create_message
from channels_adapters.twilio_rest import TwilioRestBackend, load_backend
from conversations.identities import WHATSAPP_PREFIX
from conversations.outbox import Receipt

# Twilio's WhatsApp refusals, in words an agent can act on (Twilio's error dictionary).
PERMANENT_ERRORS = {
    **SMS_PERMANENT_ERRORS,
    63003: "The recipient's number is not on WhatsApp.",
    63007: "Twilio has no WhatsApp sender for the From number (WHATSAPP_FROM_NUMBER).",
    63016: (
        "Outside WhatsApp's 24-hour window: only an approved template may be sent "
        "(THROUGHLINE_WHATSAPP_TEMPLATES)."
    ),
    63024: "The recipient cannot receive this WhatsApp message.",
}


@dataclass(frozen=True)
class WhatsAppMessage:
    to: str  # E.164; the `whatsapp:` prefix is added when sending
    body: str = ""
    from_number: str = ""  # E.164 of the shop's WhatsApp sender
    messaging_service_sid: str = ""
    media_urls: tuple[str, ...] = ()
    content_sid: str = ""  # an approved template: Twilio ignores `body` then
    content_variables: dict = field(default_factory=dict)  # {"1": "Dana", ...}
    status_callback: str = ""
    metadata: dict = field(default_factory=dict)  # e.g. the outbox id, for tests

    def twilio_params(self) -> dict:
        """The Messages API's arguments for the `twilio` client."""
        sender = (
            {"messaging_service_sid": self.messaging_service_sid}
            if self.messaging_service_sid
            else {"from_": WHATSAPP_PREFIX + self.from_number}
        )
        what = (
            {
                "content_sid": self.content_sid,
                "content_variables": json.dumps(self.content_variables)
                if self.content_variables
                else None,
            }
            if self.content_sid
            else {"body": self.body, "media_url": list(self.media_urls) or None}
        )
        return {
            "to": WHATSAPP_PREFIX + self.to,
            "status_callback": self.status_callback or None,
            **sender,
            **{k: v for k, v in what.items() if v is not None},
        }


def get_backend():
    """The backend named by WHATSAPP_BACKEND, made once per configuration."""
    return load_backend(settings.WHATSAPP_BACKEND)


class TwilioBackend(TwilioRestBackend):
    """Sends through the real `twilio` REST client (Twilio's Messages API, as SMS)."""

    def send(self, message: WhatsAppMessage) -> Receipt:
        return create_message(
            self.client, message.twilio_params(), PERMANENT_ERRORS, what="WhatsApp message"
        )

    def delete_message(self, sid: str) -> bool:
        return self._delete(self.client.messages(sid))


class ConsoleBackend:
    """Prints each message to standard output (the quick start): nothing leaves the machine."""

    stream = None

    def send(self, message: WhatsAppMessage) -> Receipt:
        sid = f"SM{uuid.uuid4().hex}"
        what = (
            f"template {message.content_sid} {json.dumps(message.content_variables)}"
            if message.content_sid
            else message.body
        )
        stream = self.stream or sys.stdout
        stream.write(
            f"--- WhatsApp {sid} (console backend, not sent) ---\n"
            f"to: whatsapp:{message.to}\n{what}\n---\n"
        )
        stream.flush()
        return Receipt(provider_id=sid, status="sent")

    def delete_message(self, sid: str) -> bool:
        return True


class LocmemBackend:
    """Keeps each message in `LocmemBackend.sent` (tests read and clear it)."""

    sent: list[WhatsAppMessage] = []
    deleted: list[str] = []
    _lock = threading.Lock()

    def send(self, message: WhatsAppMessage) -> Receipt:
        with self._lock:
            self.sent.append(message)
        return Receipt(provider_id=f"SM{uuid.uuid4().hex}", status="queued")

    def delete_message(self, sid: str) -> bool:
        with self._lock:
            self.deleted.append(sid)
        return True
