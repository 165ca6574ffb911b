"""A consent box ticked at the shop's checkout, sent with an event: a ledger line with its
proof, and marketing texts allowed by the arbiter (docs/api.md, "Consent")."""

from datetime import UTC, datetime

import pytest
import time_machine

from channels_adapters.sms.backends import LocmemBackend
from conversations.identities import resolve_customer
from conversations.models import Customer, Event, Identity
from engagement.arbiter import propose
from engagement.models import Nudge
from privacy.export import export_customer
from privacy.models import ConsentRecord
from tests.api.helpers import event

pytestmark = pytest.mark.django_db

URL = "/api/v1/events"
MORNING = datetime(2026, 3, 10, 17, 0, tzinfo=UTC)  # 10:00 in San Francisco
PHONE = "+14155550132"
SHOWN = "Yes, text me offers and cart reminders from Demo Shop. Reply STOP to stop."


def consent(**changes):
    return {
        "topics": ["offers", "cart_reminders"],
        "channel": "sms",
        "text": SHOWN,
        "text_version": "2026-03",
        "given_at": "2026-03-10T16:58:00Z",
        "ip": "203.0.113.9",
        "user_agent": "Mozilla/5.0 (checkout)",
        **changes,
    }


@pytest.fixture(autouse=True)
def gates(settings):
    settings.ENGAGEMENT_GATES = ["privacy.gates.gate"]
    settings.ENGAGEMENT_FREQUENCY_CAPS = ["5/24h"]
    settings.ENGAGEMENT_SEND_WINDOW = "08:00-21:00"
    LocmemBackend.sent.clear()
    yield
    LocmemBackend.sent.clear()


def _offer(customer, key):
    return propose(
        customer,
        rule="offer",
        step=1,
        dedupe_key=f"offer:{key}",
        topic="offers",
        body="20% off this week",
        channels=("sms",),
    )


def test_an_order_with_consent_writes_its_proof_and_the_arbiter_then_allows_offers(api):
    with time_machine.travel(MORNING, tick=False):
        before = _offer(resolve_customer("phone", PHONE), 1)
        order = event("o-1", "order_placed", customer={"phone": PHONE}, consent=consent())
        response = api.post(URL, {"events": [order]}, check_request=True)
        assert response.status_code == 200, response.content
        customer = Identity.objects.get(kind="phone", value=PHONE).customer
        after = _offer(customer, 2)

    assert before.status == Nudge.Status.SUPPRESSED and "consent" in before.reason
    rows = list(ConsentRecord.objects.filter(customer=customer).order_by("topic"))
    assert [(r.topic, r.channel, r.action) for r in rows] == [
        ("cart_reminders", "sms", "granted"),
        ("offers", "sms", "granted"),
    ]
    for row in rows:
        assert (row.address_kind, row.address) == ("phone", PHONE)
        assert row.source == "api:order_placed"
        assert row.words == SHOWN and row.text_version == "2026-03"
        assert row.occurred_at == datetime(2026, 3, 10, 16, 58, tzinfo=UTC)
        assert row.ip == "203.0.113.9" and row.user_agent == "Mozilla/5.0 (checkout)"
    assert after.status == Nudge.Status.SENT
    exported = export_customer(customer)["consent_records"]
    assert {r["topic"] for r in exported} == {"offers", "cart_reminders"}
    assert all(r["words"] == SHOWN and r["ip"] == "203.0.113.9" for r in exported)


def test_a_customer_named_otherwise_consents_for_their_only_phone(api):
    customer = resolve_customer("external", "shop-7")
    Identity.objects.create(customer=customer, kind="phone", value=PHONE)
    body = consent(topics=["offers"], given_at=None, ip=None, user_agent="")
    del body["ip"]

    response = api.post(URL, {"events": [event("o-1", "order_placed", customer={
        "external_id": "shop-7"}, consent=body)]})  # fmt: skip

    assert response.status_code == 200, response.content
    (row,) = ConsentRecord.objects.filter(customer=customer)
    assert (row.address, row.ip, row.user_agent) == (PHONE, None, "")
    assert row.occurred_at == Event.objects.get(source_id="o-1").occurred_at


def test_a_repeated_event_records_its_consent_once(api):
    order = event("o-1", "order_placed", customer={"phone": PHONE}, consent=consent())
    api.post(URL, {"events": [order, order]})
    api.post(URL, {"events": [order]})

    assert ConsentRecord.objects.count() == 2  # one per topic


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"topics": ["spam"]}, "consent.topics[0]", "must be one of"),
        ({"topics": []}, "consent.topics", "at least one"),
        ({"channel": "carrier pigeon"}, "consent.channel", "must be one of"),
        ({"text": "x" * 1001}, "consent.text", "at most 1000"),
        ({"text": ""}, "consent.text", "is required"),
        ({"ip": "203.0.113.999"}, "consent.ip", "IPv4 or IPv6"),
        ({"user_agent": "u" * 501}, "consent.user_agent", "at most 500"),
        ({"given_at": "2026-03-10T16:58:00"}, "consent.given_at", "time zone"),
        ({"given_at": "2099-01-01T00:00:00Z"}, "consent.given_at", "in the future"),
        ({"text_version": " v1"}, "consent.text_version", "space"),
        ({"shown_to": "me"}, "consent.shown_to", "is not"),
    ],
)
def test_a_malformed_consent_is_a_400_naming_the_field_and_nothing_is_written(
    api, changes, field, words
):
    batch = [
        event("p-1", "page_viewed", customer={"phone": PHONE}),
        event("o-1", "order_placed", customer={"phone": PHONE}, consent=consent(**changes)),
    ]

    response = api.post(URL, {"events": batch})

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["field"] == f"events[1].{field}"
    assert words in error["message"]
    assert not Customer.objects.exists() and not ConsentRecord.objects.exists()


def test_consent_to_texts_without_a_phone_is_a_422_and_the_batch_is_not_stored(api):
    batch = [
        event("p-1", "page_viewed", customer={"phone": PHONE}),
        event("o-1", "order_placed", customer={"external_id": "shop-9"}, consent=consent()),
    ]

    response = api.post(URL, {"events": batch})

    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["field"] == "events[1].consent.channel"
    assert "name the customer by phone" in error["message"]
    assert not Customer.objects.exists() and not Event.objects.exists()
    assert not ConsentRecord.objects.exists()


def test_consent_on_the_web_channel_needs_no_phone(api):
    body = consent(channel="web", topics=["order_updates"])
    response = api.post(URL, {"events": [event("c-1", "checkout_started", consent=body)]})

    assert response.status_code == 200, response.content
    (row,) = ConsentRecord.objects.all()
    assert (row.topic, row.channel, row.address, row.source) == (
        "order_updates", "web", "", "api:checkout_started"
    )  # fmt: skip
