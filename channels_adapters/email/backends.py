"""The one door to the email provider (setting `EMAIL_CHANNEL_BACKEND`).

A Django email backend, as EMAIL_BACKEND names one: anymail's for the provider the shop
has (`anymail.backends.postmark.EmailBackend`, `anymail.backends.mailgun.EmailBackend`,
... configured by ANYMAIL), Django's console backend for the quick start (prints each
mail), `LocmemBackend` under pytest (anymail's test backend: `django.core.mail.outbox`,
with the provider's answer a test chooses). `send` hands one message over and sorts the
provider's refusals into `SendError`, as the SMS backends do.
"""

from __future__ import annotations

import smtplib
import uuid

import requests
from anymail.backends.test import EmailBackend as AnymailTestBackend
from anymail.exceptions import (
    AnymailAPIError,
    AnymailError,
    AnymailRecipientsRefused,
    AnymailRequestsAPIError,
)
from anymail.message import AnymailRecipientStatus
from django.conf import settings
from django.core import mail
from django.core.mail import EmailMessage

from conversations.outbox import Receipt, SendError

# Anymail's per-recipient statuses that no retry changes.
_REFUSED = {"rejected", "invalid"}


def send(message: EmailMessage, *, message_id: str) -> Receipt:
    """Send one message through EMAIL_CHANNEL_BACKEND; the receipt carries the provider's
    id (what its tracking webhooks name), or our Message-ID when the backend has none."""
    connection = mail.get_connection(settings.EMAIL_CHANNEL_BACKEND, fail_silently=False)
    try:
        connection.send_messages([message])
    except AnymailRecipientsRefused:
        raise SendError(_refusal(message), code="refused", permanent=True) from None
    except AnymailRequestsAPIError as exc:
        raise _error_from_requests(exc) from None
    except AnymailAPIError as exc:
        raise SendError(
            f"The email provider refused the message ({type(exc).__name__}).",
            code="api",
            permanent=True,
        ) from None
    except AnymailError as exc:  # our message is not one the provider can take
        raise SendError(
            f"The message cannot be sent ({type(exc).__name__}).", code="invalid", permanent=True
        ) from None
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused):
        raise SendError(
            "The mail server refused the address.", code="smtp", permanent=True
        ) from None
    except (smtplib.SMTPException, OSError):
        raise SendError("The mail server is unreachable; will retry.", code="smtp") from None
    status = getattr(message, "anymail_status", None)
    provider_id = (status.message_id if status is not None else None) or message_id
    recipient = status.recipients.get(message.to[0]) if status is not None else None
    if recipient is not None and recipient.status in _REFUSED:
        raise SendError(_refusal(message), code=recipient.status, permanent=True)
    return Receipt(provider_id=strip_brackets(str(provider_id)), status="sent")


def strip_brackets(message_id: str) -> str:
    """Providers write message ids with or without <>; we store them without."""
    return message_id.strip().removeprefix("<").removesuffix(">")


def _refusal(message: EmailMessage) -> str:
    return (
        "The email provider refused this address (invalid, bounced before, or the "
        "recipient unsubscribed or complained at the provider)."
    )


def _error_from_requests(exc: AnymailRequestsAPIError) -> SendError:
    def caused_by(kind) -> bool:
        return isinstance(exc, kind) or isinstance(exc.__cause__, kind)

    if caused_by(requests.ConnectTimeout) or (
        caused_by(requests.ConnectionError) and not caused_by(requests.Timeout)
    ):
        return SendError("Could not connect to the email provider; will retry.", code="connect")
    if caused_by(requests.Timeout):
        # The provider may have taken it: sending again could mail the customer twice.
        return SendError(
            "The email provider did not answer in time; the message may or may not have been sent.",
            code="timeout",
            maybe_sent=True,
        )
    status = getattr(exc, "status_code", None)
    if status is None or status == 429 or status >= 500:
        return SendError(
            f"The email provider answered {status or 'nothing'}; will retry.",
            code=str(status or "http"),
        )
    return SendError(
        f"The email provider refused the message (HTTP {status}).", code=str(status), permanent=True
    )


class LocmemBackend(AnymailTestBackend):
    """Anymail's test backend (each message in `django.core.mail.outbox`, with
    `anymail_test_params`), giving each message a distinct provider id. A test makes the
    provider refuse the next sends by putting anymail errors or recipient statuses in
    `LocmemBackend.answers` (taken first in, first out)."""

    answers: list = []

    def get_esp_message_id(self, message):
        return f"<{uuid.uuid4().hex}@locmem.test>"

    def post_to_esp(self, payload, message):
        if self.answers and not hasattr(message, "anymail_test_response"):
            message.anymail_test_response = self.answers.pop(0)
        response = super().post_to_esp(payload, message)
        if isinstance(response, AnymailRecipientStatus):
            return {"recipient_status": dict.fromkeys(payload.recipient_emails, response)}
        return response
