"""Signed Twilio voice webhooks, TwiML read as XML, agents with phones, the fake Twilio."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.test import Client

from channels_adapters.voice.backends import LocmemBackend
from conversations.models import AgentProfile, Event
from tests.channels_adapters.sms.conftest import signature
from tests.fakes.twilio_payloads import payload
from tests.fakes.twilio_server import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio

SHOP_NUMBER = "+14155550100"
CALLER = "+14155550123"
AGENT_PHONE = "+14155550177"


def call_sid(n: int) -> str:
    return f"CA{n:032x}"


FIRST_CALL = "CA" + "0" * 31 + "1"  # call_sid(1)


def recording_sid(n: int) -> str:
    return f"RE{n:032x}"


class TwilioVoice:
    """Posts form data to the voice webhooks signed exactly as Twilio signs them."""

    def __init__(self, client: Client | None = None):
        self.client = client or Client()

    def post(self, path: str, params: dict, *, token=AUTH_TOKEN, signed=True):
        url = settings.PUBLIC_BASE_URL + path
        headers = {"X-Twilio-Signature": signature(url, params, token)} if signed else {}
        return self.client.post(
            path,
            urlencode(params),
            content_type="application/x-www-form-urlencoded",
            headers=headers,
        )

    def call(self, sid=FIRST_CALL, *, caller=CALLER, to=SHOP_NUMBER, **extra):
        """An incoming call as Twilio posts it: every field of the fixture, in its order."""
        form = payload(
            "voice",
            "inbound_call",
            **{"CallSid": sid, "AccountSid": ACCOUNT_SID},
            **{"From": caller, "Caller": caller, "To": to, "Called": to},
        )
        return self.post("/hooks/twilio/voice/", form | extra)

    def gather(self, sid=FIRST_CALL, **extra):
        """A <Gather> result as Twilio posts it, with what the caller said or keyed in
        `extra` (the fixture's own speech left out)."""
        form = payload(
            "voice",
            "gather_speech",
            **{"CallSid": sid, "AccountSid": ACCOUNT_SID, "To": SHOP_NUMBER},
            **{"SpeechResult": None, "Confidence": None, "Language": None},
        )
        return self.post("/hooks/twilio/voice/gather/", form | extra)

    def status(self, sid=FIRST_CALL, status="completed", *, query="", **extra):
        """A call status callback as Twilio posts it; durations only where a test gives them."""
        form = payload(
            "voice",
            "status_completed",
            **{"CallSid": sid, "AccountSid": ACCOUNT_SID, "CallStatus": status},
            **{"Duration": None, "CallDuration": None},
        )
        return self.post("/hooks/twilio/voice/status/" + query, form | extra)

    def dial_outcome(self, sid=FIRST_CALL, dial_status="no-answer", *, query="", **extra):
        form = {"CallSid": sid, "CallStatus": "in-progress", "DialCallStatus": dial_status}
        return self.post("/hooks/twilio/voice/status/" + query, form | extra)

    def recording(self, sid=FIRST_CALL, **extra):
        return self.post("/hooks/twilio/voice/recording/", {"CallSid": sid} | extra)


def twiml(response) -> ET.Element:
    """The answer parsed as XML: a <Response> it must be."""
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/xml")
    root = ET.fromstring(response.content)  # noqa: S314  # our own server's answer
    assert root.tag == "Response"
    return root


def verbs(root: ET.Element) -> list[str]:
    return [child.tag for child in root]


def said(root: ET.Element) -> str:
    return " ".join(say.text or "" for say in root.iter("Say"))


def the_call(sid=FIRST_CALL) -> Event:
    return Event.objects.get(channel="voice", source_id=sid)


@pytest.fixture(autouse=True)
def twilio_settings(settings):
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_FROM_NUMBER = SHOP_NUMBER
    settings.VOICE_FROM_NUMBER = SHOP_NUMBER
    settings.PUBLIC_BASE_URL = "https://shop.example.com"
    return settings


@pytest.fixture
def voice():
    return TwilioVoice()


@pytest.fixture
def on_duty(agent):
    return AgentProfile.objects.create(user=agent, phone=AGENT_PHONE, available=True)


@pytest.fixture
def placed_calls():
    LocmemBackend.calls.clear()
    yield LocmemBackend.calls
    LocmemBackend.calls.clear()


@pytest.fixture
def fake_twilio(settings):
    server = FakeTwilio().start()
    settings.VOICE_BACKEND = "channels_adapters.voice.backends.TwilioBackend"
    settings.TWILIO_API_BASE_URL = server.base_url
    settings.TWILIO_HTTP_TIMEOUT = 1.0
    yield server
    server.stop()
