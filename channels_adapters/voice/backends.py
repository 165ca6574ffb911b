"""The one door to Twilio's voice API, and its stand-ins (setting `VOICE_BACKEND`).

Like the SMS backends: `TwilioBackend` for production (chosen when the Twilio credentials
are set), `ConsoleBackend` for the quick start (prints the call it would start),
`LocmemBackend` for tests (keeps each call in `LocmemBackend.calls`). Each has
`start_call(call) -> Receipt` and raises `SendError` saying whether the call may have
started and whether trying again can help.
"""

from __future__ import annotations

import sys
import threading
import uuid
from dataclasses import dataclass

import requests
from django.conf import settings
from twilio.base.exceptions import TwilioRestException

from channels_adapters.numbers.directory import Credentials
from channels_adapters.twilio_rest import TwilioRestBackend, load_backend, never_left
from conversations.outbox import Receipt, SendError

# Progress Twilio reports to the status callback of a call we start.
STATUS_EVENTS = ("initiated", "ringing", "answered", "completed")


@dataclass(frozen=True)
class VoiceCall:
    to: str  # E.164: who rings first (for a call-back, the agent)
    from_number: str  # our number, shown as the caller id
    url: str  # our TwiML for when they answer
    status_callback: str = ""
    timeout: int = 30  # seconds of ringing before Twilio gives up


def get_backend(account: Credentials | None = None):
    """The backend named by VOICE_BACKEND for `account` (default: the settings' one)."""
    return load_backend(settings.VOICE_BACKEND, account)


class TwilioBackend(TwilioRestBackend):
    """Starts calls through the real `twilio` REST client (one client per process)."""

    def start_call(self, call: VoiceCall) -> Receipt:
        try:
            created = self.client.calls.create(
                to=call.to,
                from_=call.from_number,
                url=call.url,
                method="POST",
                timeout=call.timeout,
                status_callback=call.status_callback or None,
                status_callback_method="POST",
                status_callback_event=list(STATUS_EVENTS) if call.status_callback else None,
            )
        except TwilioRestException as exc:
            if exc.status == 429 or exc.status >= 500:
                raise SendError(
                    f"Twilio answered {exc.status}; try again.", code=str(exc.code)
                ) from None
            code = exc.code or exc.status
            raise SendError(
                f"Twilio refused the call (error {code}).", code=str(code), permanent=True
            ) from None
        except requests.RequestException as exc:
            if never_left(exc):
                raise SendError("Could not connect to Twilio; try again.", code="connect") from None
            # The request may have reached Twilio: the phone may ring; do not start another.
            raise SendError(
                "Twilio did not answer in time; the call may or may not have started.",
                code="timeout",
                maybe_sent=True,
            ) from None
        return Receipt(provider_id=created.sid, status=created.status or "queued")

    def delete_recording(self, sid: str) -> bool:
        """Ask Twilio to delete a recording (and its transcription); False when gone."""
        return self._delete(self.client.recordings(sid))


class ConsoleBackend:
    """Prints each call it would start (the quick start): nothing leaves the machine."""

    stream = None  # standard output as it is when calling (tests capture it)

    def start_call(self, call: VoiceCall) -> Receipt:
        sid = f"CA{uuid.uuid4().hex}"
        stream = self.stream or sys.stdout
        stream.write(
            f"--- call {sid} (console backend, not placed) ---\n"
            f"ring: {call.to}\nfrom: {call.from_number}\nTwiML: {call.url}\n---\n"
        )
        stream.flush()
        return Receipt(provider_id=sid, status="queued")

    def delete_recording(self, sid: str) -> bool:
        (self.stream or sys.stdout).write(f"--- delete recording {sid} (console backend) ---\n")
        return True


class LocmemBackend:
    """Keeps each call in `LocmemBackend.calls` (tests read it, and clear it), and each
    recording deletion asked for in `LocmemBackend.deleted_recordings`."""

    calls: list[VoiceCall] = []
    deleted_recordings: list[str] = []
    _lock = threading.Lock()

    def delete_recording(self, sid: str) -> bool:
        with self._lock:
            self.deleted_recordings.append(sid)
        return True

    def start_call(self, call: VoiceCall) -> Receipt:
        with self._lock:
            self.calls.append(call)
        return Receipt(provider_id=f"CA{uuid.uuid4().hex}", status="queued")
