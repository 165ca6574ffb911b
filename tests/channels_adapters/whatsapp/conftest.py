"""Signed WhatsApp webhooks, a stopped clock, the fake Twilio REST server, the locmem outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from channels_adapters.sms.backends import LocmemBackend as SmsLocmem
from channels_adapters.whatsapp.backends import LocmemBackend
from tests.channels_adapters.sms.conftest import twilio_settings  # noqa: F401 (a fixture)
from tests.fakes.twilio_payloads import payload, post_signed
from tests.fakes.twilio_server import ACCOUNT_SID, FakeTwilio

SHOP_NUMBER = "+14155550100"
SHOPPER = "+14155550123"
INBOUND_URL = "/hooks/twilio/whatsapp/"
STATUS_URL = "/hooks/twilio/whatsapp/status/"
# Tuesday 10 March 2026, 10:00 in San Francisco: inside any quiet-hours window.
MORNING = datetime(2026, 3, 10, 17, 0, tzinfo=UTC)


def replay(name: str, url: str = INBOUND_URL, **changes):
    """tests/fixtures/twilio/whatsapp/<name>.json, changed, posted and signed as Twilio does."""
    form = payload("whatsapp", name, **changes)
    return form, post_signed(url, form)


def write_in(body: str = "Hi! Is the T900 in stock?", *, n: int = 1, sender: str = SHOPPER):
    """The customer writes on WhatsApp (through the real webhook): the window opens."""
    sid = f"SM{n:032x}"
    _, response = replay(
        "inbound_text", MessageSid=sid, SmsSid=sid, SmsMessageSid=sid, Body=body,
        From=f"whatsapp:{sender}", WaId=sender[1:],
    )  # fmt: skip
    assert response.status_code == 200, response.content
    return response


def status(sid: str, name: str = "status_delivered", *, outbox_id: int | None = None, **changes):
    url = STATUS_URL + (f"?outbox={outbox_id}" if outbox_id else "")
    return replay(name, url, MessageSid=sid, SmsSid=sid, **changes)[1]


@pytest.fixture(autouse=True)
def whatsapp_settings(twilio_settings):  # noqa: F811 (the imported fixture, extended)
    twilio_settings.WHATSAPP_FROM_NUMBER = SHOP_NUMBER
    twilio_settings.WHATSAPP_MESSAGING_SERVICE_SID = ""
    twilio_settings.THROUGHLINE_WHATSAPP_TEMPLATES = {}
    twilio_settings.ENGAGEMENT_GATES = None  # what the apps declare: WhatsApp's window gate
    return twilio_settings


@pytest.fixture
def clock():
    """A clock stopped at MORNING; `clock.at(delta)` moves it."""
    with time_machine.travel(MORNING, tick=False) as traveller:

        class Clock:
            start = MORNING

            def at(self, delta: timedelta) -> datetime:
                traveller.move_to(MORNING + delta)
                return timezone.now()

        yield Clock()


@pytest.fixture
def sent():
    LocmemBackend.sent.clear()
    SmsLocmem.sent.clear()
    yield LocmemBackend.sent
    LocmemBackend.sent.clear()
    SmsLocmem.sent.clear()


@pytest.fixture
def fake_twilio(settings):
    server = FakeTwilio().start()
    settings.WHATSAPP_BACKEND = "channels_adapters.whatsapp.backends.TwilioBackend"
    settings.TWILIO_API_BASE_URL = server.base_url
    settings.TWILIO_HTTP_TIMEOUT = 1.0
    yield server
    server.stop()


__all__ = ["ACCOUNT_SID"]
