"""Signed Twilio webhooks, the fake Twilio REST server and the locmem SMS outbox."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.test import Client
from twilio.request_validator import RequestValidator

from channels_adapters.sms.backends import LocmemBackend
from tests.fakes.twilio_payloads import payload
from tests.fakes.twilio_server import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio

SHOP_NUMBER = "+14155550100"
SHOPPER = "+14155550123"


def signature(url: str, params: dict, token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


class TwilioWebhooks:
    """Posts form data to our webhooks signed exactly as Twilio signs them."""

    def __init__(self, client: Client | None = None):
        self.client = client or Client()

    def post(self, path: str, params: dict, *, sign_params: dict | None = None, token=AUTH_TOKEN):
        url = settings.PUBLIC_BASE_URL + path
        return self.client.post(
            path,
            urlencode(params),
            content_type="application/x-www-form-urlencoded",
            headers={"X-Twilio-Signature": signature(url, sign_params or params, token)},
        )

    def sms(self, body="hello", *, sid="SM" + "a" * 32, sender=SHOPPER, **extra):
        """An inbound text as Twilio posts it: every field of the fixture, in its order."""
        form = payload(
            "sms",
            "inbound_sms",
            **{"SmsMessageSid": sid, "SmsSid": sid, "MessageSid": sid, "AccountSid": ACCOUNT_SID},
            **{"From": sender, "To": SHOP_NUMBER, "Body": body},
        )
        return self.post("/hooks/twilio/sms/", form | extra)

    def status(self, sid: str, status: str, *, outbox_id: int | None = None, **extra):
        """A status callback as Twilio posts it (the delivered fixture's fields and order;
        the delivery receipt's date only where the carrier gives one)."""
        path = "/hooks/twilio/sms/status/" + (f"?outbox={outbox_id}" if outbox_id else "")
        receipt = {} if status in ("delivered", "undelivered") else {"RawDlrDoneDate": None}
        form = payload(
            "sms",
            "status_delivered",
            **{"SmsSid": sid, "MessageSid": sid, "AccountSid": ACCOUNT_SID},
            **{"SmsStatus": status, "MessageStatus": status, **receipt},
        )
        return self.post(path, form | extra)


@pytest.fixture(autouse=True)
def twilio_settings(settings):
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_FROM_NUMBER = SHOP_NUMBER
    settings.PUBLIC_BASE_URL = "https://shop.example.com"
    return settings


@pytest.fixture
def twilio():
    return TwilioWebhooks()


@pytest.fixture
def sent_sms():
    LocmemBackend.sent.clear()
    yield LocmemBackend.sent
    LocmemBackend.sent.clear()


@pytest.fixture
def fake_twilio(settings):
    server = FakeTwilio().start()
    settings.SMS_BACKEND = "channels_adapters.sms.backends.TwilioBackend"
    settings.TWILIO_API_BASE_URL = server.base_url
    settings.TWILIO_HTTP_TIMEOUT = 1.0
    yield server
    server.stop()


def sid(n: int) -> str:
    return f"SM{n:032x}"
