"""Two stores, each with its own number on its own Twilio account; webhooks signed as
Twilio signs them with each account's token; the fake Twilio REST server."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.test import Client

from channels_adapters.numbers import directory
from channels_adapters.numbers import hours as number_hours
from channels_adapters.numbers.models import MessagingNumber, TwilioAccount
from channels_adapters.sms.backends import LocmemBackend as SmsLocmem
from channels_adapters.voice.backends import LocmemBackend as VoiceLocmem
from conversations.models import AgentProfile
from instore import hours as instore_hours
from tests.channels_adapters.sms.conftest import signature
from tests.fakes.twilio_payloads import payload
from tests.fakes.twilio_server import FakeTwilio
from tests.instore.factories import StoreFactory

ACCOUNT_A = "AC" + "a" * 32
TOKEN_A = "token-of-account-a-0123456789abcd"
ACCOUNT_B = "AC" + "b" * 32
TOKEN_B = "token-of-account-b-0123456789abcd"
NUMBER_A = "+14155550101"  # Downtown's, on account A: the shop's default
NUMBER_B = "+14155550202"  # Harbor's, on account B
UNKNOWN = "+14155550999"
SHOPPER = "+14155550123"
OTHER = "+14155550124"
AGENT_PHONE = "+14155550177"
PATH = "/hooks/twilio/sms/"


class Webhooks:
    def __init__(self):
        self.client = Client()

    def post(self, path: str, form: dict, *, token: str):
        url = settings.PUBLIC_BASE_URL + path
        return self.client.post(
            path,
            urlencode(form),
            content_type="application/x-www-form-urlencoded",
            headers={"X-Twilio-Signature": signature(url, form, token)},
        )

    def sms(self, *, to: str, account: str, token: str, sid: str, body="hello", sender=SHOPPER):
        form = payload(
            "sms",
            "inbound_sms",
            **{"SmsMessageSid": sid, "SmsSid": sid, "MessageSid": sid, "AccountSid": account},
            **{"From": sender, "To": to, "Body": body},
        )
        return self.post(PATH, form, token=token)

    def call(self, *, to: str, account: str, token: str, sid: str, caller=SHOPPER):
        form = payload(
            "voice",
            "inbound_call",
            **{"CallSid": sid, "AccountSid": account},
            **{"From": caller, "Caller": caller, "To": to, "Called": to},
        )
        return self.post("/hooks/twilio/voice/", form, token=token)


def sms_sid(n: int) -> str:
    return f"SM{n:032x}"


def call_sid(n: int) -> str:
    return f"CA{n:032x}"


@pytest.fixture(autouse=True)
def fresh_directory():
    """Rows a test's transaction rolls back send no signal: forget them on both sides."""
    directory.forget()
    number_hours._forget()
    instore_hours._forget_stores()
    yield
    directory.forget()
    number_hours._forget()
    instore_hours._forget_stores()


@pytest.fixture(autouse=True)
def twilio_settings(settings, monkeypatch, tmp_path):
    # The settings' single account is neither A nor B: with rows, the settings sign nothing.
    settings.TWILIO_ACCOUNT_SID = "AC" + "0" * 32
    settings.TWILIO_AUTH_TOKEN = "the-settings-token-not-a-or-b-000"
    settings.TWILIO_FROM_NUMBER = "+14155550100"
    settings.VOICE_FROM_NUMBER = "+14155550100"
    settings.PUBLIC_BASE_URL = "https://shop.example.com"
    # A's token in the environment, B's in the secrets file
    monkeypatch.setenv("TL_TEST_TOKEN_A", TOKEN_A)
    secrets = tmp_path / "twilio-secrets.json"
    secrets.write_text(json.dumps({"brand-b": TOKEN_B}))
    settings.TWILIO_SECRETS_FILE = str(secrets)
    return settings


@pytest.fixture
def shop(db):
    """Downtown on NUMBER_A (account A, the default) and Harbor on NUMBER_B (account B)."""
    downtown = StoreFactory(name="Downtown", phone="", business_hours={})
    harbor = StoreFactory(name="Harbor", phone="", business_hours={})
    account_a = TwilioAccount.objects.create(
        label="Brand A", account_sid=ACCOUNT_A, auth_token_env="TL_TEST_TOKEN_A"
    )
    account_b = TwilioAccount.objects.create(
        label="Brand B", account_sid=ACCOUNT_B, auth_token_key="brand-b"
    )
    MessagingNumber.objects.create(
        account=account_a, store=downtown, phone_number=NUMBER_A, is_default=True
    )
    MessagingNumber.objects.create(account=account_b, store=harbor, phone_number=NUMBER_B)
    return {"downtown": downtown, "harbor": harbor, "a": account_a, "b": account_b}


@pytest.fixture
def webhooks():
    return Webhooks()


@pytest.fixture
def sent_sms():
    SmsLocmem.sent.clear()
    yield SmsLocmem.sent
    SmsLocmem.sent.clear()


@pytest.fixture
def placed_calls():
    VoiceLocmem.calls.clear()
    yield VoiceLocmem.calls
    VoiceLocmem.calls.clear()


@pytest.fixture
def on_duty(agent):
    return AgentProfile.objects.create(user=agent, phone=AGENT_PHONE, available=True)


@pytest.fixture
def fake_twilio(settings):
    server = FakeTwilio().start()
    settings.SMS_BACKEND = "channels_adapters.sms.backends.TwilioBackend"
    settings.VOICE_BACKEND = "channels_adapters.voice.backends.TwilioBackend"
    settings.TWILIO_API_BASE_URL = server.base_url
    settings.TWILIO_HTTP_TIMEOUT = 1.0
    yield server
    server.stop()
