"""A stop said in other words by text: opt-out, the one confirmation, the ledger, and the
ambiguous message an agent decides (docs/twilio.md, "Opting out")."""

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.utils import timezone

from conversations import consent_review
from conversations.models import Event, Identity
from privacy.gates import gate
from privacy.models import ConsentRecord
from tests.channels_adapters.sms.conftest import SHOPPER, sid

pytestmark = pytest.mark.django_db


def phone() -> Identity:
    return Identity.objects.get(kind="phone", value=SHOPPER)


def replies(response) -> list[str]:
    return [m.text for m in ET.fromstring(response.content).iter("Message")]  # noqa: S314 (ours)


def test_stop_anywhere_in_a_text_opts_out_and_gets_one_confirmation(twilio, settings):
    twilio.sms("Hi, I'd like a T900", sid=sid(1))

    response = twilio.sms("Please stop texting me", sid=sid(2))

    assert phone().opted_out_at is not None
    event = Event.objects.get(source_id=sid(2))
    assert (event.kind, event.data["action"], event.data["source"]) == (
        "consent",
        "opt_out",
        "sms:revocation",
    )
    assert replies(response) == [settings.CONSENT_REVOCATION_CONFIRMATION]
    confirmation = Event.objects.get(source_id=f"{sid(2)}:confirmation")
    assert confirmation.direction == "out" and confirmation.data["auto_reply"] == (
        "revocation_confirmation"
    )
    # sent with the answer to the customer's own text: within seconds, not five minutes
    assert confirmation.occurred_at - event.occurred_at < timedelta(minutes=5)


def test_the_confirmation_carries_no_marketing_and_goes_once_per_revocation(twilio):
    first = twilio.sms("Cancel my reminders", sid=sid(1))
    again = twilio.sms("no more texts!", sid=sid(2))  # already opted out: no second text
    repeat = twilio.sms("Cancel my reminders", sid=sid(1))  # Twilio retrying the first

    (text,) = replies(first)
    assert "http" not in text and "%" not in text and "offer" not in text.lower()
    assert replies(again) == []
    assert replies(repeat) == [text]  # the same answer, still one confirmation recorded
    assert Event.objects.filter(data__auto_reply="revocation_confirmation").count() == 1


def test_a_spanish_stop_opts_out(twilio):
    twilio.sms("Por favor, no más mensajes", sid=sid(1))

    assert phone().opted_out_at is not None


def test_stop_start_help_keywords_keep_their_behaviour_and_twilio_confirms_stop(twilio):
    stop = twilio.sms("STOP", sid=sid(1))

    assert replies(stop) == []  # Twilio answers its own keywords
    assert phone().consent_source == "sms:STOP"


def test_twilio_opt_out_type_wins_over_our_words(twilio):
    twilio.sms("stop texting me", sid=sid(1))

    twilio.sms("ok go on, stop texting me later", sid=sid(2), OptOutType="START")

    assert phone().opted_out_at is None


def test_every_revocation_is_a_ledger_line_with_the_words_that_said_it(twilio):
    twilio.sms("Unsubscribe me please", sid=sid(1))

    record = ConsentRecord.objects.get()
    assert (record.action, record.channel, record.address, record.source) == (
        "revoked",
        "sms",
        SHOPPER,
        "sms:revocation",
    )
    assert record.words == "Unsubscribe me please"


def test_an_ambiguous_text_halts_marketing_and_asks_an_agent(twilio):
    twilio.sms("Can I stop by the store tomorrow?", sid=sid(1))

    identity = phone()
    message = Event.objects.get(source_id=sid(1))
    assert identity.opted_out_at is None  # not a definitive stop
    assert (message.kind, message.data["revocation"]) == ("message", "ambiguous")
    assert message.case_id is not None  # an agent sees it
    (flag,) = consent_review.pending_flags(message.conversation)
    assert flag.data["message"] == message.pk
    reason = gate(identity.customer, topic="offers", channel="web", now=timezone.now())
    assert reason.startswith("revocation under review")
    assert gate(identity.customer, topic="order_updates", channel="sms", now=timezone.now()) is None


def test_an_agent_confirms_an_ambiguous_text_as_a_stop(twilio, agent):
    twilio.sms("not interested", sid=sid(1))
    (flag,) = consent_review.pending_flags(phone().customer.conversation)

    consent_review.confirm_revocation(flag, by=agent)

    assert phone().opted_out_at is not None
    assert consent_review.pending_flags(phone().customer.conversation) == []
    with pytest.raises(consent_review.NotPending):
        consent_review.dismiss_revocation(flag, by=agent)


def test_an_agent_dismisses_an_ambiguous_text_and_granted_marketing_resumes(twilio, agent):
    twilio.sms("START", sid=sid(1))  # consent with its words on record
    twilio.sms("Can I stop by tomorrow?", sid=sid(2))
    customer = phone().customer
    assert gate(customer, topic="offers", channel="sms", now=timezone.now()) is not None
    (flag,) = consent_review.pending_flags(customer.conversation)

    consent_review.dismiss_revocation(flag, by=agent)

    assert phone().opted_out_at is None
    assert gate(customer, topic="offers", channel="sms", now=timezone.now()) is None
    assert ConsentRecord.objects.filter(action="dismissed", resolves__isnull=False).count() == 1
