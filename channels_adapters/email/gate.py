"""The gate in front of every email webhook: anymail checks, we answer as the SMS webhook
does (docs/adding-a-channel.md, "How its webhook is authenticated").

Anymail's webhook views know each provider's signature (Mailgun's HMAC of timestamp and
token with the webhook signing key; the basic auth of WEBHOOK_SECRET that Postmark, and
Mailgun too here, put in the URL) and payload. Left to themselves they answer a forged
request 400 and a malformed one 500, and send a Django signal. `anymail_webhook` keeps
their checks and parsers and answers our way:

- not POST: 405; a body over EMAIL_WEBHOOK_MAX_BYTES: 413;
- the provider not configured (no signing key; for a provider whose only protection is
  basic auth, no WEBHOOK_SECRET): 403, and the log says which setting;
- missing, forged or tampered signature or basic auth: 403, nothing read;
- a payload anymail or our parser cannot read: 400 with the reason, nothing written; so
  is one whose parsed text PostgreSQL cannot store (a NUL in a subject, a body, an id);
- then each parsed event is handed to `record`, in the request, and the answer is 200.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict
from functools import cache

from anymail.exceptions import (  # type: ignore[import-untyped]
    AnymailConfigurationError,
    AnymailInvalidAddress,
)
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils.module_loading import import_string
from django.views.decorators.csrf import csrf_exempt

from base.inputs import unstorable_in

logger = logging.getLogger(__name__)


class BadMail(ValueError):
    """What the provider sent cannot be read: answered 400 with this message."""


def _text(status: int, reason: str) -> HttpResponse:
    return HttpResponse(reason, status=status, content_type="text/plain; charset=utf-8")


@cache
def _anymail_view(view_path: str):
    """Anymail's view, built once per process: it reads its secrets from the settings when
    built and keeps nothing of a request. Not cached while unconfigured (it raises)."""
    return import_string(view_path)()


@receiver(setting_changed)
def _forget_anymail_views(*, setting: str, **kwargs) -> None:
    if setting == "ANYMAIL" or setting.startswith(("ANYMAIL_", "MAILGUN_", "POSTMARK_")):
        _anymail_view.cache_clear()  # tests change the secrets


def anymail_webhook(view_path: str, *, provider: str, parse: Callable, record: Callable):
    """A Django view around anymail's `view_path`: check, parse every event, then record."""

    @csrf_exempt
    def webhook(request: HttpRequest) -> HttpResponse:
        if request.method == "HEAD":  # providers check the URL exists when it is configured
            return HttpResponse(status=200)
        if request.method != "POST":
            return _text(405, "POST only.")
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _text(400, "The Content-Length is not a number.")
        if length > settings.EMAIL_WEBHOOK_MAX_BYTES:
            return _text(
                413, f"The request is larger than {settings.EMAIL_WEBHOOK_MAX_BYTES} bytes."
            )
        try:
            hook = _anymail_view(view_path)
        except AnymailConfigurationError:
            logger.error(
                "email webhook %s: %s is not configured (docs/email.md)", request.path, provider
            )
            return _text(403, "This webhook is not configured.")
        if hook.warn_if_no_basic_auth and not hook.basic_auth:
            # basic auth is this provider's only protection (Postmark's): without
            # ANYMAIL_WEBHOOK_SECRET anyone could post mail as anyone, so it stays shut
            logger.error(
                "email webhook %s: ANYMAIL_WEBHOOK_SECRET is not set (docs/email.md)", request.path
            )
            return _text(403, "This webhook is not configured.")
        try:
            hook.run_validators(request)
        except RequestDataTooBig:
            return _text(413, "The request is too large.")
        except Exception:  # a signature that cannot even be checked is not valid
            logger.warning("email webhook %s: missing or invalid signature", request.path)
            return _text(403, "Missing or invalid signature.")
        try:
            values = [parse(event, provider) for event in hook.parse_events(request)]
        except BadMail as exc:
            return _text(400, str(exc))
        except RequestDataTooBig:
            return _text(413, "The request is too large.")
        except AnymailInvalidAddress:
            return _text(400, "An address in the message is not a valid email address.")
        except AnymailConfigurationError as exc:  # e.g. a tracking payload on the inbound URL
            return _text(400, str(exc))
        except Exception as exc:
            logger.info(
                "email webhook %s: unreadable payload (%s)", request.path, type(exc).__name__
            )
            return _text(
                400, f"The payload cannot be read as {provider} sends it ({type(exc).__name__})."
            )
        values = [value for value in values if value is not None]
        for value in values:
            if found := unstorable_in(asdict(value), "mail"):
                where, problem = found
                return _text(400, f"{where} {problem}, which cannot be stored.")
        for value in values:
            record(value)
        return HttpResponse(status=200)

    return webhook
