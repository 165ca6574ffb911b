"""The preference page tells the truth and records each change with its proof."""

import pytest
from django.utils import timezone

from conversations import consent
from conversations.identities import resolve_customer
from conversations.links import token_for
from conversations.models import Identity
from privacy.gates import gate
from privacy.models import ConsentRecord

pytestmark = pytest.mark.django_db
PHONE = "+14155550123"


@pytest.fixture
def shopper():
    return resolve_customer("phone", PHONE)


def page_path(customer):
    return f"/c/{token_for(customer, 'preferences')}/preferences/"


def post(client, customer, boxes, **extra):
    return client.post(
        page_path(customer),
        {box: "on" for box in boxes} | extra,
        headers={"User-Agent": "Phone Browser 1.0"},
        REMOTE_ADDR="198.51.100.7",
    )


def test_ticking_offers_by_text_is_a_grant_with_every_proof_field(client, shopper):
    html = client.get(page_path(shopper)).content.decode()
    disclosure = consent.sms_disclosure()
    assert disclosure.text in html and disclosure.version in html

    post(client, shopper, ["offers:sms"])

    record = ConsentRecord.objects.get(topic="offers", channel="sms")
    assert record.action == "granted" and record.source == "preferences page"
    assert (record.words, record.text_version) == (disclosure.text, disclosure.version)
    assert (record.ip, record.user_agent) == ("198.51.100.7", "Phone Browser 1.0")
    assert record.occurred_at <= timezone.now() and record.event_id is not None
    assert gate(shopper, topic="offers", channel="sms", now=timezone.now()) is None
    assert 'name="offers:sms" checked' in client.get(page_path(shopper)).content.decode()


def test_unticking_a_granted_topic_is_a_revocation(client, shopper):
    post(client, shopper, ["offers:sms"])

    post(client, shopper, [])

    assert ConsentRecord.objects.filter(topic="offers", channel="sms").latest(
        "occurred_at", "pk"
    ).action == ("revoked")
    assert gate(shopper, topic="offers", channel="sms", now=timezone.now()) is not None


def test_an_opted_out_number_shows_as_such_and_nothing_by_text_is_ticked(client, shopper):
    consent.opt_out(Identity.objects.get(value=PHONE), source="sms:STOP")

    html = client.get(page_path(shopper)).content.decode()

    assert "<strong>opted out</strong>" in html
    assert 'name="order_updates:sms" disabled' in html


def test_stop_all_on_the_page_opts_out_every_address(client, shopper):
    response = post(client, shopper, [], stop_all="1")

    assert response.status_code == 302
    assert Identity.objects.get(value=PHONE).consent_source == "preferences page"


def test_the_export_holds_the_ledger(client, shopper):
    from privacy.export import export_customer

    post(client, shopper, ["offers:sms"])

    records = export_customer(shopper)["consent_records"]
    (record,) = [r for r in records if r["action"] == "granted"]
    assert record["words"] == consent.sms_disclosure().text and record["ip"] == "198.51.100.7"
