import xml.etree.ElementTree as ET

import pytest

from channels_adapters.sms import keywords
from channels_adapters.sms.outbound import send_sms
from conversations import outbox
from conversations.context import build_context
from conversations.models import Case, Customer, Event, Identity, Outbox
from tests.channels_adapters.sms.conftest import SHOPPER, sid

pytestmark = pytest.mark.django_db


def phone() -> Identity:
    return Identity.objects.get(kind="phone", value=SHOPPER)


def test_stop_opts_the_number_out_and_is_a_consent_event_in_the_timeline(twilio):
    twilio.sms("hello", sid=sid(1))

    response = twilio.sms("Stop", sid=sid(2))

    assert response.status_code == 200
    assert response.content.decode().endswith("<Response />")  # Twilio confirms STOP itself
    identity = phone()
    assert identity.opted_out_at is not None
    assert identity.consent_source == "sms:STOP"
    event = Event.objects.get(source_id=sid(2))
    assert (event.kind, event.channel, event.direction, event.body) == (
        "consent",
        "sms",
        "in",
        "Stop",
    )
    assert event.data["action"] == "opt_out" and event.data["changed"] is True
    assert build_context(identity.customer).consent == {"sms": False}


def test_after_stop_an_outbound_attempt_sends_nothing(twilio, sent_sms):
    twilio.sms("STOP", sid=sid(1))
    customer = Customer.objects.get()

    with pytest.raises(outbox.Refused, match="opted out"):
        send_sms(customer=customer, body="20% off today!")

    assert sent_sms == []
    assert not Outbox.objects.exists()
    assert not Event.objects.filter(direction="out").exists()


@pytest.mark.django_db(transaction=True)
def test_a_message_written_before_stop_is_not_sent_after_it(twilio, sent_sms):
    twilio.sms("hello", sid=sid(1))
    event = send_sms(customer=Customer.objects.get(), body="Your order shipped")
    twilio.sms("stop", sid=sid(2))  # arrives while the message waits in the queue

    status = outbox.deliver(event.outbox.pk)

    assert status == "failed"
    assert sent_sms == []
    event.refresh_from_db()
    assert event.delivery_status == "failed"
    assert "opted out" in event.data["delivery_error_reason"]


def test_start_restores_sending(twilio, sent_sms):
    twilio.sms("STOP", sid=sid(1))

    twilio.sms("start", sid=sid(2))
    event = send_sms(customer=Customer.objects.get(), body="Welcome back")

    identity = phone()
    assert identity.opted_out_at is None
    assert identity.consented_at is not None and identity.consent_source == "sms:START"
    assert Outbox.objects.get(event=event).status == "pending"
    assert [e.data.get("action") for e in Event.objects.filter(kind="consent").order_by("seq")] == [
        "opt_out",
        "opt_in",
    ]


def test_a_retried_stop_does_not_undo_a_later_start(twilio):
    twilio.sms("STOP", sid=sid(1))
    twilio.sms("START", sid=sid(2))

    twilio.sms("STOP", sid=sid(1))  # Twilio retries the first webhook late

    assert phone().opted_out_at is None
    assert Event.objects.filter(kind="consent").count() == 2


def test_stop_does_not_open_a_case(twilio):
    twilio.sms("STOP", sid=sid(1))

    assert not Case.objects.exists()


def test_help_gets_the_help_text_and_the_preferences_link_and_the_timeline_shows_it(
    twilio, settings, client
):
    settings.SMS_HELP_TEXT = "Acme Bikes: reply STOP to opt out. Call 415-555-0100."

    response = twilio.sms("help", sid=sid(1))

    said = ET.fromstring(response.content).find("Message").text  # noqa: S314 (our own answer)
    text, link = said.split(" Choose what we send you: ")
    assert text == settings.SMS_HELP_TEXT
    inbound, reply = Event.objects.order_by("seq")
    assert (inbound.kind, inbound.direction, inbound.data["keyword"]) == ("message", "in", "HELP")
    assert (reply.direction, reply.body) == ("out", said)
    page = client.get(link.removeprefix(settings.PUBLIC_BASE_URL))
    assert page.status_code == 200  # the customer's own preference page
    twilio.sms("help", sid=sid(1))  # a retry answers again but records nothing new
    assert Event.objects.count() == 2


def test_twilio_advanced_opt_out_type_wins_over_our_keyword_list(twilio):
    twilio.sms("ARRET", sid=sid(1), OptOutType="STOP")  # the shop's own French keyword

    assert phone().opted_out_at is not None


@pytest.mark.parametrize(
    "body, expected",
    [
        ("STOP", "STOP"),
        (" stopall ", "STOP"),
        ("Unsubscribe.", "STOP"),
        ("cancel", "STOP"),
        ("END", "STOP"),
        ("quit!", "STOP"),
        ("revoke", "STOP"),
        ("optout", "STOP"),
        ("Start", "START"),
        ("unstop", "START"),
        ("HELP", "HELP"),
        ("info?", "HELP"),
        ("please don't stop", ""),
        ("stop it, the bike is great", ""),
        ("", ""),
    ],
)
def test_keywords(body, expected):
    assert keywords.classify(body) == expected
