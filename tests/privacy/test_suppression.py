"""The suppression list: an erased customer who said STOP stays opted out when the same
number writes again (docs/privacy.md, "The suppression list")."""

import pytest
from django.core.management import call_command
from django.test import override_settings

from channels_adapters.sms.backends import LocmemBackend
from conversations import outbox
from conversations.models import Customer, Identity
from privacy import suppression
from privacy.erasure import erase_customer
from privacy.models import ConsentRecord, Suppression
from tests.channels_adapters.sms.conftest import (  # noqa: F401 (fixtures)
    SHOPPER,
    TwilioWebhooks,
    sid,
    twilio_settings,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent_sms():
    LocmemBackend.sent.clear()
    yield LocmemBackend.sent
    LocmemBackend.sent.clear()


@pytest.fixture
def twilio():
    return TwilioWebhooks()


def erased_after_stop(twilio) -> Customer:
    twilio.sms("Hello", sid=sid(1))
    twilio.sms("STOP", sid=sid(2))
    customer = Identity.objects.get(value=SHOPPER).customer
    erase_customer(customer)
    return customer


def test_erasure_keeps_only_a_keyed_hash_and_the_opt_out_time(twilio, settings):
    erase_customer_before = erased_after_stop(twilio)

    entry = Suppression.objects.get()
    assert (entry.kind, len(entry.digest)) == ("phone", 64)
    assert SHOPPER not in entry.digest and SHOPPER.lstrip("+") not in entry.digest
    assert entry.opted_out_at is not None
    assert not Identity.objects.filter(value=SHOPPER).exists()
    # the ledger keeps the statement, with the address as the same hash and no client
    record = ConsentRecord.objects.get(customer=erase_customer_before)
    assert record.address == "hmac:" + entry.digest and record.ip is None


def test_an_erased_customer_who_said_stop_writing_again_starts_opted_out(twilio, sent_sms):
    erased_after_stop(twilio)

    twilio.sms("Hi again, is the T900 back?", sid=sid(3))

    newcomer = Identity.objects.get(value=SHOPPER)
    assert newcomer.opted_out_at is None  # a new identity, never stopped itself...
    with pytest.raises(outbox.Refused, match="suppression list"):  # ...and yet opted out
        outbox.send(customer=newcomer.customer, channel="sms", body="Hi! Yes it is.")
    assert sent_sms == []


def test_an_address_that_never_said_stop_is_not_kept(twilio):
    twilio.sms("Hello", sid=sid(1))

    erase_customer(Identity.objects.get(value=SHOPPER).customer)

    assert not Suppression.objects.exists()


def test_start_lifts_the_suppression(twilio, sent_sms):
    erased_after_stop(twilio)

    twilio.sms("START", sid=sid(3))

    assert not Suppression.objects.exists()
    customer = Identity.objects.get(value=SHOPPER).customer
    outbox.send(customer=customer, channel="sms", body="Welcome back")  # not refused


def test_the_hash_depends_on_the_key():
    with override_settings(SUPPRESSION_HASH_KEY="one"):
        first = suppression.digest("phone", SHOPPER)
    with override_settings(SUPPRESSION_HASH_KEY="two"):
        second = suppression.digest("phone", SHOPPER)

    assert first != second


def test_check_deploy_warns_without_a_dedicated_key(settings, capsys):
    settings.SUPPRESSION_HASH_KEY = ""
    from privacy.checks import suppression_key

    (warning,) = suppression_key(None)
    assert warning.id == "privacy.W001"
    settings.SUPPRESSION_HASH_KEY = "a-long-random-secret"
    assert suppression_key(None) == []


def test_consent_proof_prints_the_ledger_of_an_erased_number(twilio, capsys):
    erased_after_stop(twilio)

    call_command("consent_proof", "(415) 555-0123")

    out = capsys.readouterr().out
    assert "On the suppression list" in out
    assert "REVOKED" in out and "words: STOP" in out
