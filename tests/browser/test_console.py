"""The agent console in a real browser (issue 9, "Tests"): log in, the live inbox, a
conversation across web, SMS, voice and an in-store scan, a reply by SMS, a new message
arriving without a reload, and customer text that stays text."""

from __future__ import annotations

import re
import time

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connections
from playwright.sync_api import expect

from channels_adapters.sms.backends import LocmemBackend
from conversations import journal
from conversations.identities import link_identity, resolve_customer
from conversations.models import Outbox

pytestmark = pytest.mark.django_db(transaction=True)
PHONE = "+14155550132"
INBOX = "/admin/conversations/conversation/inbox/"


def journey():
    """Dana's history: a web chat, a text, a call with its voicemail, a QR scan in store."""
    dana = resolve_customer("phone", PHONE, display_name="Dana Scully")
    link_identity(dana, "visitor", "v-dana")

    def say(**fields):
        journal.record(customer=dana, **fields)

    say(channel="web", kind="message", direction="in", body="Is the T900 quiet?")
    say(channel="web", kind="message", direction="in", body="<img src=x onerror=window.pwned=1>")
    say(channel="sms", kind="message", direction="in", body="Texting you about the T900")
    say(
        channel="voice",
        kind="call",
        direction="in",
        body="Voicemail",
        data={"recording_url": "https://api.twilio.com/rec.mp3", "transcript": "Call me back"},
    )
    say(
        channel="instore",
        kind="scan",
        direction="in",
        body="Scanned the T900",
        data={"product": {"name": "T900", "sku": "T900"}, "store": {"id": 1, "name": "Downtown"}},
    )
    return dana


def log_in(page, base_url, user):
    # The server runs without the tests' fast MD5 hasher: give the password its default.
    user.password = PBKDF2PasswordHasher().encode("pw-alice", PBKDF2PasswordHasher().salt())
    user.save(update_fields=["password"])
    page.goto(f"{base_url}/admin/login/?next={INBOX}")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("pw-alice")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(re.escape(INBOX) + "$"))


def test_an_agent_answers_a_cross_channel_conversation_live(live_server_url, browser_page, agent):
    page = browser_page
    dana = journey()
    LocmemBackend.sent.clear()

    # the agent logs in and lands on the inbox, which updates without a reload
    log_in(page, live_server_url, agent)
    inbox = page.locator("#inbox-rows")
    expect(inbox.get_by_role("link", name="Dana Scully")).to_be_visible()
    expect(page.locator("#console-inbox[data-connected='1']")).to_be_attached()
    page.evaluate("window.stillHere = true")
    newcomer = resolve_customer("phone", "+14155550177", display_name="Fox Mulder")
    journal.record(customer=newcomer, channel="sms", kind="message", direction="in", body="Hi")
    expect(inbox.get_by_role("link", name="Fox Mulder")).to_be_visible(timeout=15_000)
    assert page.evaluate("window.stillHere") is True

    # the conversation: one timeline across channels, customer HTML shown as text
    inbox.get_by_role("link", name="Dana Scully").click()
    timeline = page.locator("#timeline")
    expect(timeline.locator("li.ch-web").first).to_contain_text("Is the T900 quiet?")
    expect(timeline.locator("li.ch-sms")).to_contain_text("Texting you about the T900")
    expect(timeline.locator("li.ch-voice")).to_contain_text("Call me back")
    expect(timeline.locator("li.ch-voice audio")).to_have_attribute(
        "src", "https://api.twilio.com/rec.mp3"
    )
    expect(timeline.locator("li.ch-instore")).to_contain_text("T900 (T900) at Downtown")
    expect(timeline.get_by_text("<img src=x onerror=window.pwned=1>")).to_be_visible()
    assert page.evaluate("window.pwned") is None
    expect(page.get_by_label("Customer context")).to_contain_text(PHONE)

    # a reply by SMS: Dana writes on the web chat most, but she has left the site, so the
    # picker starts where she can be reached now, and says why
    expect(page.get_by_label("Reply on")).to_have_value("sms")
    expect(page.locator("#channel-reason")).to_contain_text("not on the web chat now")
    page.get_by_role("textbox", name="Message").fill("It is: 58 dB at full speed.")
    page.get_by_role("textbox", name="Message").press("Control+Enter")
    expect(page.get_by_text("Sent by SMS.")).to_be_visible()
    expect(timeline.locator("li.ch-sms[data-direction=out]")).to_contain_text("58 dB")
    deliver_queued_sms()
    assert [m.body for m in LocmemBackend.sent] == ["It is: 58 dB at full speed."]
    assert LocmemBackend.sent[0].to == PHONE

    # the customer answers: it appears without a reload
    page.evaluate("window.stillHere = true")
    journal.record(
        customer=dana, channel="sms", kind="message", direction="in", body="Great, ordering now"
    )
    expect(timeline.locator("li.ch-sms[data-direction=in]").last).to_contain_text(
        "Great, ordering now", timeout=15_000
    )
    assert page.evaluate("window.stillHere") is True


def deliver_queued_sms(timeout: float = 20) -> None:
    """Run a real Celery worker here, where the locmem backend can be read, until the
    page's reply (queued by the server) is sent."""
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not LocmemBackend.sent:
            time.sleep(0.1)
    connections.close_all()
    assert Outbox.objects.get().status == "sent"


def test_a_scheduled_call_back_lands_in_the_agents_hot_inbox_at_its_time(
    live_server_url, browser_page, agent
):
    from datetime import timedelta

    from django.utils import timezone

    from conversations.models import AgentProfile
    from routing.callbacks import raise_due_call_backs, schedule_call_back

    page = browser_page
    AgentProfile.objects.create(user=agent, phone="+14155550171", available=True)
    dana = resolve_customer("phone", PHONE, display_name="Dana Scully")
    slot = timezone.now() + timedelta(hours=2)
    schedule_call_back(customer=dana, slot=slot, time_zone="UTC", by_customer=True)
    log_in(page, live_server_url, agent)
    page.goto(f"{live_server_url}{INBOX}?view=all&hot=1")
    expect(page.locator("#console-inbox[data-connected='1']")).to_be_attached()
    inbox = page.locator("#inbox-rows")
    expect(inbox.get_by_role("link", name="Dana Scully")).to_have_count(0)  # not due yet

    assert raise_due_call_backs(now=slot - timedelta(minutes=1)) == 0
    assert raise_due_call_backs(now=slot) == 1  # the minute sweep, at the slot's time

    expect(inbox.get_by_role("link", name="Dana Scully")).to_be_visible(timeout=15_000)
    inbox.get_by_role("link", name="Dana Scully").click()
    expect(page.locator("#timeline")).to_contain_text("Scheduled call back due")
