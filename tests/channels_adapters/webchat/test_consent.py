"""The widget's consent: "Continue by SMS" with an unticked box and its disclosure, and a
"Stop messages" control (docs/widget.md)."""

import pytest
from django.test import Client
from django.utils import timezone

from channels_adapters.sms.backends import LocmemBackend
from channels_adapters.webchat import inbound
from conversations.models import Identity
from conversations.visitors import read_visitor_token
from privacy.gates import gate
from privacy.models import ConsentRecord

from .conftest import SHOP_ORIGIN, post
from .test_phone import PHONE, code_in, start

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent_sms():
    LocmemBackend.sent.clear()
    yield LocmemBackend.sent
    LocmemBackend.sent.clear()


@pytest.fixture
def token(site):
    return post(Client(), "/widget/session", {"site": site.public_key}).json()["token"]


def confirm_with(site, token, code, **extra):
    return Client().post(
        "/widget/phone/confirm",
        {"site": site.public_key, "token": token, "code": code} | extra,
        content_type="application/json",
        headers={"Origin": SHOP_ORIGIN, "User-Agent": "Mozilla/5.0 (Test)"},
        REMOTE_ADDR="203.0.113.9",
    )


def test_the_session_carries_the_disclosure_shown_beside_the_unticked_box(site, token):
    state = post(Client(), "/widget/session", {"site": site.public_key, "token": token}).json()

    assert "Consent is not a condition of purchase" in state["sms_disclosure"]["text"]
    assert state["sms_disclosure"]["version"].startswith("sha256:")


def test_verifying_a_number_without_the_box_is_no_consent_to_marketing(site, token, sent_sms):
    start(site, token)
    response = post(
        Client(),
        "/widget/phone/confirm",
        {"site": site.public_key, "token": token, "code": code_in(sent_sms[0])},
    )

    assert response.status_code == 200
    identity = Identity.objects.get(kind="phone", value=PHONE)
    assert identity.consented_at is None and not ConsentRecord.objects.exists()
    reason = gate(identity.customer, topic="offers", channel="sms", now=timezone.now())
    assert reason.startswith("no consent proof")


def test_a_ticked_box_is_consent_with_every_proof_field(site, token, sent_sms):
    shown = post(Client(), "/widget/session", {"site": site.public_key, "token": token}).json()
    start(site, token)

    response = confirm_with(
        site,
        token,
        code_in(sent_sms[0]),
        consent=True,
        disclosure_version=shown["sms_disclosure"]["version"],
    )

    assert response.status_code == 200
    record = ConsentRecord.objects.get()
    assert (record.action, record.topic, record.channel) == ("granted", "", "sms")
    assert (record.address_kind, record.address) == ("phone", PHONE)
    assert record.source == "web:continue by sms"
    assert record.words == shown["sms_disclosure"]["text"]
    assert record.text_version == shown["sms_disclosure"]["version"]
    assert record.ip == "203.0.113.9" and record.user_agent == "Mozilla/5.0 (Test)"
    assert record.occurred_at is not None and record.event_id is not None
    customer = Identity.objects.get(value=PHONE).customer
    assert gate(customer, topic="offers", channel="sms", now=timezone.now()) is None


def test_a_box_ticked_under_an_old_text_is_refused(site, token, sent_sms):
    start(site, token)

    response = confirm_with(site, token, code_in(sent_sms[0]), consent=True, disclosure_version="x")

    assert response.status_code == 422 and response.json()["field"] == "consent"
    assert not ConsentRecord.objects.exists()


def test_stop_messages_opts_out_every_address(site, token, sent_sms):
    start(site, token)
    confirm_with(site, token, code_in(sent_sms[0]))

    response = post(Client(), "/widget/stop", {"site": site.public_key, "token": token})

    assert response.status_code == 200
    assert Identity.objects.get(value=PHONE).consent_source == "web:stop button"


def test_a_stop_written_in_the_chat_is_honoured(site, token):
    visitor = read_visitor_token(token)

    inbound.receive_message(visitor_id=visitor, client_id="c1", body="don't text me anymore")
    inbound.receive_message(visitor_id=visitor, client_id="c1", body="don't text me anymore")

    customer = inbound.known_customer(visitor)
    record = ConsentRecord.objects.get(customer=customer)  # once, though sent twice
    assert (record.action, record.channel) == ("revoked", "")
    assert gate(customer, topic="offers", channel="web", now=timezone.now()).startswith(
        "consent revoked"
    )
