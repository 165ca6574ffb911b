"""The one door to Twilio's messaging API, and its stand-ins (setting `SMS_BACKEND`).

Like Django's EMAIL_BACKEND: `TwilioBackend` for production (chosen when the Twilio
credentials are set), `ConsoleBackend` for the quick start (prints what would be sent),
`LocmemBackend` for tests (keeps what was sent in `LocmemBackend.sent`). Each has
`send(message) -> Receipt` and raises `SendError` saying whether the message may have
left and whether trying again can help.
"""

from __future__ import annotations

import sys
import threading
import uuid
from dataclasses import dataclass, field

import requests
from django.conf import settings
from twilio.base.exceptions import TwilioRestException

from channels_adapters.numbers.directory import Credentials
from channels_adapters.twilio_rest import TwilioRestBackend, load_backend, never_left
from conversations.outbox import Receipt, SendError

# Twilio REST error codes that no retry can fix, in words an agent can act on.
PERMANENT_ERRORS = {
    21211: "This is not a valid phone number.",
    21214: "This phone number cannot be reached.",
    21408: "The Twilio account may not send to this country (Messaging Geo Permissions).",
    21610: "The recipient replied STOP; Twilio blocks messages to them until they reply START.",
    21612: "Twilio cannot send from this sender to this number.",
    21614: "This number cannot receive SMS (it is not a mobile number).",
    21617: "The message is too long.",
}
OPTED_OUT = 21610


@dataclass(frozen=True)
class SmsMessage:
    to: str
    body: str
    from_number: str = ""
    messaging_service_sid: str = ""
    media_urls: tuple[str, ...] = ()
    status_callback: str = ""
    metadata: dict = field(default_factory=dict)  # e.g. the outbox id, for logs and tests


def get_backend(account: Credentials | None = None):
    """The backend named by SMS_BACKEND for `account` (default: the settings' one)."""
    return load_backend(settings.SMS_BACKEND, account)


class TwilioBackend(TwilioRestBackend):
    """Sends through the real `twilio` REST client (one client and connection pool per process)."""

    def send(self, message: SmsMessage) -> Receipt:
        sender = (
            {"messaging_service_sid": message.messaging_service_sid}
            if message.messaging_service_sid
            else {"from_": message.from_number}
        )
        params = {
            "to": message.to,
            "body": message.body,
            "media_url": list(message.media_urls) or None,
            "status_callback": message.status_callback or None,
            **sender,
        }
        return create_message(self.client, params, PERMANENT_ERRORS, what="message")

    def delete_message(self, sid: str) -> bool:
        """Ask Twilio to delete a message it holds (erasure); False when already gone."""
        return self._delete(self.client.messages(sid))

    def delete_media(self, message_sid: str, media_sid: str) -> bool:
        """Ask Twilio to delete one media file of a message (erasure); False when gone."""
        return self._delete(self.client.messages(message_sid).media(media_sid))


def create_message(client, params: dict, permanent_errors: dict, *, what: str) -> Receipt:
    """One message through Twilio's Messages API (SMS's and WhatsApp's), its failures as
    the outbox's SendError: `permanent_errors` puts Twilio's refusals in words."""
    try:
        created = client.messages.create(**params)
    except TwilioRestException as exc:
        if exc.status == 429 or exc.status >= 500:
            raise SendError(
                f"Twilio answered {exc.status}; will retry.", code=str(exc.code or exc.status)
            ) from None
        code = exc.code or exc.status
        reason = permanent_errors.get(code) or f"Twilio refused the {what} (error {code})."
        raise SendError(
            reason, code=str(code), permanent=True, opted_out=code == OPTED_OUT
        ) from None
    except requests.RequestException as exc:
        if never_left(exc):
            raise SendError("Could not connect to Twilio; will retry.", code="connect") from None
        # The request may have reached Twilio and the answer got lost: sending it again
        # could text the customer twice, so a person (or Twilio's callback) decides.
        raise SendError(
            "Twilio did not answer in time; the message may or may not have been sent.",
            code="timeout",
            maybe_sent=True,
        ) from None
    return Receipt(provider_id=created.sid, status=created.status or "queued")


class ConsoleBackend:
    """Prints each message to standard output (the quick start): nothing leaves the machine."""

    stream = None  # standard output as it is when sending (tests capture it)

    def send(self, message: SmsMessage) -> Receipt:
        sid = f"SM{uuid.uuid4().hex}"
        media = "".join(f"\n  media: {url}" for url in message.media_urls)
        sender = message.from_number or message.messaging_service_sid or "-"
        stream = self.stream or sys.stdout
        stream.write(
            f"--- SMS {sid} (console backend, not sent) ---\n"
            f"to: {message.to}\nfrom: {sender}\n{message.body}{media}\n---\n"
        )
        stream.flush()
        return Receipt(provider_id=sid, status="sent", not_sent_by="console backend")

    def delete_message(self, sid: str) -> bool:
        (self.stream or sys.stdout).write(f"--- delete SMS {sid} (console backend) ---\n")
        return True

    def delete_media(self, message_sid: str, media_sid: str) -> bool:
        (self.stream or sys.stdout).write(f"--- delete media {media_sid} (console backend) ---\n")
        return True


class LocmemBackend:
    """Keeps each message in `LocmemBackend.sent` (tests read it, and clear it), and each
    deletion asked for in `LocmemBackend.deleted` as ("message", sid) or ("media", sid)."""

    sent: list[SmsMessage] = []
    deleted: list[tuple[str, str]] = []
    _lock = threading.Lock()

    def send(self, message: SmsMessage) -> Receipt:
        with self._lock:
            self.sent.append(message)
        return Receipt(
            provider_id=f"SM{uuid.uuid4().hex}", status="queued", not_sent_by="locmem backend"
        )

    def delete_message(self, sid: str) -> bool:
        with self._lock:
            self.deleted.append(("message", sid))
        return True

    def delete_media(self, message_sid: str, media_sid: str) -> bool:
        with self._lock:
            self.deleted.append(("media", media_sid))
        return True
