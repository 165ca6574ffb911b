"""The load run's journey and its verifier (bench/load/), for one shopper, without Locust.

The journey's plain functions drive a live server (daphne serving config.asgi, HTTP and
websockets, on the test database) exactly as the Locust users do; then the verifier's
SQL must find every event stored once, in order, in her one conversation. The verifier
must also be able to fail: a duplicated event, a split conversation and two events out
of order are each reported.
"""

from __future__ import annotations

import secrets

import pytest
from django.db import transaction

from bench.load.clients import Agent, Platform, Shopper
from bench.load.journey import run_journey
from bench.load.seed import ORIGIN, SHOP_NUMBER, seed_platform
from bench.load.verify import verify
from conversations import journal
from conversations.identities import resolve_customer
from conversations.models import Customer, Event, Identity

TWILIO_TOKEN = secrets.token_hex(16)


@pytest.fixture
def platform(transactional_db, settings, live_servers):
    """daphne on 127.0.0.1 serving the project on the test database (kept from test to
    test: tests/live_server.py), and what the journey's clients hold (the seed: site,
    store and placement, API key, one agent)."""
    # the agent logs in to the server, whose hashers are production's (the suite's MD5 is not)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    seeded = seed_platform(agents=1)
    public = "http://127.0.0.1"  # what the server checks Twilio signatures against
    server = live_servers.serving(
        PUBLIC_BASE_URL=public,
        TWILIO_AUTH_TOKEN=TWILIO_TOKEN,
        TWILIO_ACCOUNT_SID="",
        SMS_BACKEND="channels_adapters.sms.backends.LocmemBackend",  # nothing leaves
        THROUGHLINE_REACTIONS_MODE="inline",  # no `react` process here
        API_RATE_LIMIT="0",
    )
    with server as base:
        live = Platform(
            http=base,
            ws=base.replace("http://", "ws://"),
            public_base_url=public,
            twilio_token=TWILIO_TOKEN,
            api_key=seeded.api_key,
            site_key=seeded.site_key,
            site_secret=seeded.site_secret,
            origin=ORIGIN,
            placement_code=seeded.placement_code,
            shop_number=SHOP_NUMBER,
        )
        agent = Agent(live, *seeded.agents[0])
        yield live, agent
        agent.close()


def _journey(platform) -> tuple[dict, list[str]]:
    live, agent = platform
    steps: list[str] = []
    ledger = run_journey(live, Shopper("t", 1), agent, lambda step, seconds: steps.append(step))
    return ledger, steps


def test_one_journey_is_stored_once_in_order_in_one_conversation(platform):
    ledger, steps = _journey(platform)

    assert steps == [
        "widget_session", "widget_identify", "page_view", "cart", "widget_question",
        "agent_search", "agent_open", "agent_reply_web", "reply_on_widget", "qr_page",
        "qr_scan", "sms_in", "agent_search", "agent_open", "agent_reply_sms", "call_answer",
        "call_gather", "call_dial", "call_status", "order",
    ]  # fmt: skip
    assert [m["label"] for m in ledger["markers"]] == [
        "page_view", "cart", "widget_question", "agent_reply_web", "qr_scan", "sms_in",
        "agent_reply_sms", "call_answer", "order",
    ]  # fmt: skip
    findings = verify([ledger])
    assert findings.problems == []
    assert (findings.shoppers, findings.markers) == (1, 9)
    # the phone's text joined her history: her identities are on one live customer
    holders = set(
        Identity.objects.filter(
            value__in=[ledger["ref"], ledger["phone"], ledger["visitor_id"]]
        ).values_list("customer_id", flat=True)
    )
    assert len(holders) == 1
    assert Customer.objects.get(pk=holders.pop()).merged_into_id is None


def test_the_verifier_finds_duplicates_a_split_and_events_out_of_order(platform):
    ledger, _ = _journey(platform)
    reply = next(m for m in ledger["markers"] if m["label"] == "agent_reply_web")
    original = Event.objects.get(channel="web", direction="out", body=reply["body"])
    customer = original.conversation.customer
    # the agent's web reply stored twice
    journal.record(
        customer=customer, channel="web", kind="message", direction="out", body=reply["body"]
    )
    assert verify([ledger]).problems == [
        f"{ledger['ref']}: agent_reply_web is stored 2 times, not once"
    ]
    Event.objects.filter(pk__gt=original.pk, body=reply["body"]).delete()

    # her text stored again, without its MessageSid
    again = journal.record(
        customer=customer, channel="sms", kind="message", direction="in", body="Ref again"
    )
    assert verify([ledger]).problems == [
        f"{ledger['ref']}: 2 events from her on sms, the journey sent 1"
    ]
    Event.objects.filter(pk=again.pk).delete()

    # the page view and the order swap places in her timeline
    page_view = Event.objects.get(channel="api", source_id=f"{ledger['ref']}-page_view")
    order = Event.objects.get(channel="api", source_id=f"{ledger['ref']}-order")
    swap(page_view, order)
    out_of_order = verify([ledger]).problems
    assert (
        f"{ledger['ref']}: cart (seq {page_view.seq + 1}) is not after page_view (seq {order.seq})"
        in out_of_order
    )
    assert f"{ledger['ref']}: order (seq {page_view.seq}) is not after call_answer" in " ".join(
        out_of_order
    )
    swap(page_view, order)
    assert verify([ledger]).problems == []

    # her phone ends up on another customer: one shopper, two conversations
    stray = resolve_customer("external", "someone-else")
    Identity.objects.filter(kind="phone", value=ledger["phone"]).update(customer=stray)
    split = verify([ledger]).problems
    assert split[0].startswith(f"{ledger['ref']}: split over 2 customers (")
    assert f"phone -> customer {stray.pk}" in split[0]


def swap(one: Event, other: Event) -> None:
    """Swap two events' places (seq) in one transaction: the (conversation, seq) unique
    constraint is deferred to the commit."""
    with transaction.atomic():
        first, second = (Event.objects.get(pk=e.pk).seq for e in (one, other))
        Event.objects.filter(pk=one.pk).update(seq=second)
        Event.objects.filter(pk=other.pk).update(seq=first)
