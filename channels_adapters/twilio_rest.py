"""The one door to Twilio's REST API, shared by the SMS and voice backends.

Each adapter's backends.py picks its backend by setting (`SMS_BACKEND`, `VOICE_BACKEND`,
like Django's EMAIL_BACKEND); the Twilio ones derive from `TwilioRestBackend`, which
holds one REST client (and connection pool) per process and account: a message or call
goes through the account that owns the number it leaves from (numbers/senders.py), and
without one through the settings' account.
"""

from __future__ import annotations

from functools import lru_cache

import requests
from django.conf import settings
from django.utils.module_loading import import_string
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from .numbers.directory import Credentials, settings_credentials


def load_backend(path: str, account: Credentials | None = None):
    """The backend class at `path` for `account` (default: the settings' account), made
    once per configuration."""
    account = account or settings_credentials()
    return _backend(
        path,
        account.account_sid,
        account.auth_token,
        settings.TWILIO_API_BASE_URL,
        settings.TWILIO_HTTP_TIMEOUT,
    )


@lru_cache(maxsize=64)
def _backend(path: str, account_sid: str, auth_token: str, base_url: str, timeout: float):
    backend = import_string(path)
    if issubclass(backend, TwilioRestBackend):
        return backend(
            account_sid=account_sid, auth_token=auth_token, base_url=base_url, timeout=timeout
        )
    return backend()


class TwilioRestBackend:
    """A backend that talks to Twilio through the real `twilio` REST client."""

    def __init__(self, *, account_sid: str, auth_token: str, base_url: str, timeout: float):
        self.client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=timeout))
        self.client.api.base_url = base_url  # Twilio itself, or a local fake in tests

    def _delete(self, resource) -> bool:
        """DELETE a Twilio resource (erasure, docs/privacy.md): True when deleted, False when
        Twilio no longer has it; other refusals raise TwilioRestException."""
        try:
            return bool(resource.delete())
        except TwilioRestException as exc:
            if exc.status == 404:
                return False
            raise


def never_left(exc: requests.RequestException) -> bool:
    """Whether the request certainly never reached Twilio (no connection was made), so
    trying again cannot text or ring anyone twice."""
    if isinstance(exc, requests.ConnectTimeout | requests.exceptions.SSLError):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError | ConnectTimeoutError)
