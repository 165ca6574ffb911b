"""The WhatsApp webhook's rules: one customer per number across SMS and WhatsApp, consent
words on the WhatsApp identity only (the ledger too), and every refusal a 4xx with a reason."""

import xml.etree.ElementTree as ET

import pytest

from conversations.models import Customer, Event, Identity, Outbox
from privacy.models import ConsentRecord
from tests.fakes.twilio_payloads import payload, post_signed

from .conftest import INBOUND_URL, SHOP_NUMBER, SHOPPER, replay, write_in

pytestmark = pytest.mark.django_db


def text_by_sms(body: str = "Does it fold flat?", n: int = 500):
    sid = f"SM{n:032x}"
    form = payload("sms", "inbound_sms", MessageSid=sid, SmsSid=sid, SmsMessageSid=sid)
    response = post_signed("/hooks/twilio/sms/", {**form, "From": SHOPPER, "Body": body})
    assert response.status_code == 200


def live() -> Customer:
    return Customer.objects.get(merged_into=None)


def replies(response) -> list[str]:
    return [m.text for m in ET.fromstring(response.content).iter("Message")]  # noqa: S314 (ours)


def test_a_whatsapp_sender_joins_the_customer_who_texts_from_the_same_number():
    text_by_sms()

    write_in()

    assert sorted(live().identities.values_list("kind", "value")) == [
        ("phone", SHOPPER),
        ("whatsapp", SHOPPER),
    ]
    assert set(live().conversation.events.values_list("channel", flat=True)) >= {
        "sms",
        "whatsapp",
    }


def test_a_text_after_whatsapp_joins_the_same_customer():
    write_in()

    text_by_sms()

    assert set(live().identities.values_list("kind", flat=True)) == {"phone", "whatsapp"}


def test_another_number_on_whatsapp_is_another_customer():
    text_by_sms()

    write_in(sender="+14155550124")

    assert Customer.objects.filter(merged_into=None).count() == 2


def test_stop_opts_out_the_whatsapp_identity_not_the_phone():
    text_by_sms()
    write_in(n=1)

    write_in("STOP", n=2)

    assert Identity.objects.get(kind="whatsapp").opted_out_at is not None
    assert Identity.objects.get(kind="phone").opted_out_at is None
    consent = Event.objects.get(kind="consent")
    assert (consent.channel, consent.data["source"]) == ("whatsapp", "whatsapp:STOP")


def test_start_after_stop_opts_the_whatsapp_identity_back_in():
    write_in("STOP", n=1)

    write_in("START", n=2)

    assert Identity.objects.get(kind="whatsapp").opted_out_at is None


def test_a_stop_in_words_revokes_whatsapp_consent_in_the_ledger_with_one_confirmation(
    settings,
):
    write_in(n=1)

    response = write_in("Please stop messaging me", n=2)

    assert Identity.objects.get(kind="whatsapp").opted_out_at is not None
    assert replies(response) == [settings.CONSENT_REVOCATION_CONFIRMATION]
    record = ConsentRecord.objects.get()
    assert (record.action, record.channel, record.address_kind, record.address) == (
        "revoked",
        "whatsapp",
        "whatsapp",
        SHOPPER,
    )
    assert record.source == "whatsapp:revocation"


def test_an_ambiguous_stop_is_a_message_flagged_for_an_agent():
    write_in("Can I stop by the store tomorrow?")

    event = Event.objects.get(kind="message")
    assert event.data["revocation"] == "ambiguous"
    assert Identity.objects.get(kind="whatsapp").opted_out_at is None


def test_help_is_answered_in_the_twiml(settings):
    response = write_in("HELP")

    (answer,) = replies(response)
    assert answer.startswith(settings.SMS_HELP_TEXT)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"From": SHOPPER}, "From is not a whatsapp: address"),
        ({"From": "whatsapp:+1"}, "From is not a phone number"),
        ({"MessageSid": "SM123", "SmsSid": None, "SmsMessageSid": None}, "MessageSid is"),
        ({"Body": ""}, "neither a body, media nor a location"),
        ({"NumMedia": "2"}, "MediaUrl0 is required"),
        ({"Latitude": "1e3", "Longitude": "2"}, "Latitude is not a decimal number"),
        ({"Latitude": "91", "Longitude": "2"}, "Latitude is not between -90 and 90"),
        ({"Latitude": "3", "Longitude": "३"}, "Longitude is not a decimal number"),
        ({"Body": "x\x00"}, "Body"),
    ],
)
def test_a_malformed_form_is_400_with_the_reason_and_stores_nothing(changes, reason):
    _, response = replay("inbound_text", **changes)

    assert response.status_code == 400
    assert reason in response.content.decode()
    assert not Event.objects.exists() and not Identity.objects.exists()


def test_an_odd_detail_is_dropped_and_the_message_kept():
    _, response = replay(
        "inbound_text", ProfileName="x" * 500, MessageType="?!", OriginalRepliedMessageSid="nope"
    )

    assert response.status_code == 200
    data = Event.objects.get().data
    assert "profile_name" not in data and "message_type" not in data
    assert "in_reply_to_sid" not in data


def test_get_is_refused_and_nothing_is_written(client):
    response = client.get(INBOUND_URL)

    assert response.status_code in (403, 405)
    assert not Event.objects.exists() and not Outbox.objects.exists()


def test_the_shops_whatsapp_number_is_recorded_as_the_recipient():
    write_in()

    assert Event.objects.get().data["to"] == SHOP_NUMBER
