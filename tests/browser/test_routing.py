"""In the moment, in a real browser (issue 9, "Tests"): a customer who hung up twice comes
back to the demo shop, the widget offers a call, she accepts, and the agent's phone rings
first, through the real twilio client talking to the fake Twilio server."""

from __future__ import annotations

import re

import pytest
from django.db import connections
from playwright.sync_api import expect

from channels_adapters.webchat.demo import DEMO_PUBLIC_KEY
from conversations import journal
from conversations.identities import resolve_customer
from conversations.models import AgentProfile, Event, Identity
from conversations.visitors import issue_visitor_token, new_visitor_id
from routing.models import ContextualAction
from tests.fakes.twilio_server import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio

pytestmark = pytest.mark.django_db(transaction=True)
TOKEN_KEY = f"throughline:{DEMO_PUBLIC_KEY}:token"
SHOP_NUMBER = "+14155550100"
CUSTOMER_PHONE = "+14155550123"
AGENT_PHONE = "+14155550177"
OFFER = "Sorry we missed you — talk to a treadmill specialist now?"


@pytest.fixture
def fake_twilio(monkeypatch):
    """The fake Twilio REST API; the live server (started after this) calls it."""
    server = FakeTwilio().start()
    for name, value in {
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": SHOP_NUMBER,
        "TWILIO_API_BASE_URL": server.base_url,
        "VOICE_BACKEND": "channels_adapters.voice.backends.TwilioBackend",
    }.items():
        monkeypatch.setenv(name, value)
    yield server
    server.stop()


def test_a_frustrated_customer_accepts_the_call_back_offer_and_the_agent_rings_first(
    fake_twilio, live_server_url, browser_page, agent
):
    page = browser_page
    # given: an agent on duty with a phone, the offer rule, and a customer known by her
    # widget visitor id and her phone, who called and hung up twice on hold
    profile = AgentProfile.objects.create(user=agent, phone=AGENT_PHONE, available=True)
    profile.skills = ["treadmills"]
    profile.save()
    ContextualAction.objects.create(
        name="Missed calls, back online",
        condition={"frustration.missed_calls": {"gte": 2}},
        message=OFFER,
        skill="treadmills",
    )
    visitor_id = new_visitor_id()
    customer = resolve_customer("visitor", visitor_id, display_name="Dana Whitfield")
    Identity.objects.create(customer=customer, kind="phone", value=CUSTOMER_PHONE)
    journal.record(customer=customer, channel="voice", kind="call", direction="in", body="Call")
    for _ in range(2):
        journal.record(customer=customer, channel="voice", kind="missed_call", direction="in")

    # when: she comes back to the shop on this browser (her widget remembers her)
    page.goto(f"{live_server_url}/widget/demo/")
    page.evaluate(
        "([key, token]) => localStorage.setItem(key, token)",
        [TOKEN_KEY, issue_visitor_token(visitor_id)],
    )
    page.reload()

    # then: the widget pops up, in context
    offer = page.get_by_role("dialog", name=OFFER)
    expect(offer).to_be_visible()
    schedule = offer.get_by_role("link", name="Schedule a call back")
    expect(schedule).to_have_attribute("href", re.compile(r"/c/[^/]+/callback/$"))

    # she accepts: the agent's phone rings first (the bridge dials her when he answers)
    offer.get_by_role("button", name="Call me now").click()
    expect(offer.get_by_role("status")).to_have_text(
        "We are calling you now: your phone will ring in a moment."
    )
    [call] = fake_twilio.calls
    assert call.value("To") == AGENT_PHONE
    assert call.value("From") == SHOP_NUMBER
    outbound = Event.objects.get(conversation__customer=customer, kind="call", direction="out")
    assert call.value("Url").endswith(f"/hooks/twilio/voice/bridge/?call={outbound.pk}")
    assert outbound.data["to"] == CUSTOMER_PHONE and outbound.author == agent
    offered = Event.objects.get(conversation__customer=customer, kind="offer")
    assert offered.body == OFFER
    connections.close_all()
