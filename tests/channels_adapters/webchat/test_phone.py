"""Continue by SMS: a one-time code texted through the SMS backend, then the phone is linked."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from channels_adapters.sms.backends import LocmemBackend
from channels_adapters.webchat import inbound
from channels_adapters.webchat.models import PhoneVerification
from conversations import consent, journal
from conversations.identities import live_customer, resolve_customer
from conversations.models import Identity
from conversations.visitors import read_visitor_token

from .conftest import post

pytestmark = pytest.mark.django_db
PHONE = "+14155550123"


@pytest.fixture
def sent_sms():
    LocmemBackend.sent.clear()
    yield LocmemBackend.sent
    LocmemBackend.sent.clear()


@pytest.fixture
def token(site):
    return post(Client(), "/widget/session", {"site": site.public_key}).json()["token"]


def start(site, token, phone=PHONE):
    return post(
        Client(), "/widget/phone/start", {"site": site.public_key, "token": token, "phone": phone}
    )


def confirm(site, token, code):
    return post(
        Client(), "/widget/phone/confirm", {"site": site.public_key, "token": token, "code": code}
    )


def code_in(message) -> str:
    return re.search(r"\b(\d{6})\b", message.body).group(1)


def test_a_verified_code_links_the_phone_and_merges_its_sms_history(site, token, sent_sms):
    texter = resolve_customer("phone", PHONE)
    journal.record(customer=texter, channel="sms", kind="message", direction="in", body="Hi!")

    started = start(site, token, phone="(415) 555-0123")
    code = code_in(sent_sms[0])
    confirmed = confirm(site, token, code)

    owner = inbound.visitor_customer(read_visitor_token(token))
    verification = PhoneVerification.objects.get()
    assert started.status_code == 202
    assert sent_sms[0].to == PHONE
    assert code not in verification.code_hash and len(verification.code_hash) == 64
    assert confirmed.status_code == 200
    assert live_customer(texter).pk == owner.pk  # one customer now, whichever survived
    assert Identity.objects.get(kind="phone", value=PHONE).verified_at is not None
    assert [m["body"] for m in confirmed.json()["messages"]] == ["Hi!"]


def test_wrong_codes_are_limited_and_nothing_is_linked(site, token, sent_sms):
    start(site, token)
    right = code_in(sent_sms[0])
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"

    answers = [confirm(site, token, wrong).status_code for _ in range(5)]
    too_late = confirm(site, token, right)

    assert answers == [422] * 5
    assert too_late.status_code == 422
    assert "Too many" in too_late.json()["error"]
    assert not Identity.objects.filter(kind="phone").exists()


def test_a_code_expires(site, token, sent_sms):
    start(site, token)
    code = code_in(sent_sms[0])

    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        response = confirm(site, token, code)

    assert response.status_code == 422
    assert "expired" in response.json()["error"]
    assert not Identity.objects.filter(kind="phone").exists()


def test_a_code_works_once_and_a_new_one_replaces_the_old(site, token, sent_sms):
    start(site, token)
    start(site, token)
    first, second = code_in(sent_sms[0]), code_in(sent_sms[1])

    if first != second:
        assert confirm(site, token, first).status_code == 422
    assert confirm(site, token, second).status_code == 200
    assert confirm(site, token, second).status_code == 422


def test_an_invalid_or_opted_out_number_gets_no_text(site, token, sent_sms):
    stopped = resolve_customer("phone", "+14155550177")
    consent.opt_out(stopped.identities.get(), source="sms:STOP")

    invalid = start(site, token, phone="12")
    opted_out = start(site, token, phone="+14155550177")

    assert (invalid.status_code, invalid.json()["field"]) == (422, "phone")
    assert opted_out.status_code == 422
    assert sent_sms == []


def test_codes_per_visitor_are_capped(site, token, sent_sms):
    answers = [start(site, token).status_code for _ in range(4)]

    assert answers == [202, 202, 202, 422]
    assert len(sent_sms) == 3
