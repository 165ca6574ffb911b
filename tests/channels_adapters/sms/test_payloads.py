"""Twilio's messaging webhooks replayed as Twilio posts them (fixtures/), every kind of sender."""

import pytest

from channels_adapters.sms.backends import LocmemBackend
from channels_adapters.sms.outbound import send_sms
from console import replies
from conversations import outbox
from conversations.context import build_context
from conversations.models import Case, Customer, Event, Identity, Outbox
from tests.channels_adapters.sms.conftest import SHOP_NUMBER, SHOPPER
from tests.factories import CustomerFactory
from tests.fakes.twilio_payloads import payload, post_signed

pytestmark = pytest.mark.django_db

SMS_URL = "/hooks/twilio/sms/"
STATUS_URL = "/hooks/twilio/sms/status/"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'


def replay(name: str, **changes):
    return post_signed(SMS_URL, payload("sms", name, **changes))


def test_an_inbound_sms_as_twilio_posts_it_lands_in_the_senders_conversation():
    form = payload("sms", "inbound_sms")

    response = post_signed(SMS_URL, form)

    assert response.status_code == 200 and response.content.decode() == EMPTY_TWIML
    event = Event.objects.get()
    assert (event.channel, event.kind, event.direction) == ("sms", "message", "in")
    assert event.source_id == form["MessageSid"] and event.body == form["Body"]
    assert event.data == {"from": SHOPPER, "to": SHOP_NUMBER, "segments": 1}
    assert event.conversation.customer.identities.get().kind == "phone"


def test_an_mms_as_twilio_posts_it_keeps_its_media_at_twilio():
    form = payload("sms", "inbound_mms")

    assert replay("inbound_mms").status_code == 200

    event = Event.objects.get()
    assert event.data["media"] == [{"url": form["MediaUrl0"], "content_type": "image/jpeg"}]


def test_a_short_code_sender_is_recorded_as_a_short_code_and_can_be_answered_by_sms(sent_sms):
    response = replay("short_code_sender")

    assert response.status_code == 200
    identity = Identity.objects.get()
    assert (identity.kind, identity.value) == ("short_code", "72345")
    event = Event.objects.get()
    assert (event.channel, event.data["from"], event.data["sender_kind"]) == (
        "sms",
        "72345",
        "short_code",
    )
    answer = send_sms(customer=identity.customer, body="Thanks, noted.")
    assert outbox.deliver(answer.outbox.pk) == "sent"
    assert [m.to for m in LocmemBackend.sent] == ["72345"]


def test_a_stop_from_a_short_code_stops_sms_to_that_short_code():
    replay("short_code_sender")
    replay("short_code_sender", MessageSid="SM" + "4d" * 16, Body="STOP")

    assert Identity.objects.get(kind="short_code").opted_out_at is not None
    with pytest.raises(outbox.Refused, match="opted out"):
        send_sms(customer=Customer.objects.get(), body="hello")


def test_an_alphanumeric_sender_is_recorded_and_replies_to_it_are_refused_with_a_reason():
    response = replay("alphanumeric_sender")

    assert response.status_code == 200
    identity = Identity.objects.get()
    assert (identity.kind, identity.value) == ("alphanumeric", "FastShip")
    assert Event.objects.get().body == "Your parcel from FastShip arrives today"
    customer = identity.customer
    with pytest.raises(outbox.Refused, match="cannot receive replies"):
        send_sms(customer=customer, body="Thanks!")
    sms = next(c for c in replies.reply_channels(build_context(customer)) if c.channel == "sms")
    assert not sms.allowed and "cannot receive replies" in sms.reason
    assert not Outbox.objects.exists()


def test_a_whatsapp_sender_is_a_whatsapp_identity_on_the_whatsapp_channel():
    response = replay("whatsapp_inbound")

    assert response.status_code == 200
    identity = Identity.objects.get()
    assert (identity.kind, identity.value) == ("whatsapp", SHOPPER)
    event = Event.objects.get()
    assert (event.channel, event.kind, event.body) == ("whatsapp", "message", event.body)
    assert event.data["from"] == SHOPPER and event.data["sender_kind"] == "whatsapp"
    assert Case.objects.count() == 1


def test_a_whatsapp_sender_joins_the_customer_who_texts_from_the_same_number():
    replay("inbound_sms")

    replay("whatsapp_inbound")

    customer = Customer.objects.get(merged_into=None)
    kinds = sorted(customer.identities.values_list("kind", "value"))
    assert kinds == [("phone", SHOPPER), ("whatsapp", SHOPPER)]
    assert sorted(customer.conversation.events.filter(kind="message").values_list("channel")) == [
        ("sms",),
        ("whatsapp",),
    ]


def test_a_text_after_whatsapp_joins_the_same_customer():
    replay("whatsapp_inbound")

    replay("inbound_sms")

    live = Customer.objects.filter(merged_into=None)
    assert live.count() == 1
    assert set(live.get().identities.values_list("kind", flat=True)) == {"phone", "whatsapp"}


def test_stop_on_whatsapp_opts_out_the_whatsapp_identity_only(sent_sms):
    replay("inbound_sms")
    replay("whatsapp_inbound")

    response = replay("whatsapp_inbound", MessageSid="SM" + "6b" * 16, Body="STOP")

    assert response.status_code == 200
    assert Identity.objects.get(kind="whatsapp").opted_out_at is not None
    assert Identity.objects.get(kind="phone").opted_out_at is None
    consent = Event.objects.get(kind="consent")
    assert consent.channel == "whatsapp" and consent.data["identity_kind"] == "whatsapp"
    send_sms(customer=Customer.objects.get(merged_into=None), body="Still reachable by SMS")
    assert Outbox.objects.get().to_address == SHOPPER


def test_a_whatsapp_message_at_the_sms_webhook_is_answered_on_whatsapp_not_by_sms():
    replay("whatsapp_inbound")
    customer = Customer.objects.get()

    event = replies.reply(customer=customer, channel="whatsapp", body="hi", author=None)

    item = Outbox.objects.get()
    assert (item.channel, item.to_address) == ("whatsapp", SHOPPER)
    assert event.data["whatsapp"]["mode"] == "session"  # inside the 24-hour window
    with pytest.raises(outbox.Refused, match="no phone"):
        send_sms(customer=customer, body="hi")


@pytest.mark.parametrize("name", ["status_delivered", "status_undelivered"])
def test_status_callbacks_as_twilio_posts_them_reach_the_sent_message(name, sent_sms):
    customer = CustomerFactory()
    Identity.objects.create(customer=customer, kind="phone", value=SHOPPER)
    event = send_sms(customer=customer, body="Your bike is ready")
    outbox.deliver(event.outbox.pk)
    event.refresh_from_db()
    form = payload("sms", name, MessageSid=event.source_id, SmsSid=event.source_id)

    response = post_signed(f"{STATUS_URL}?outbox={event.outbox.pk}", form)

    assert response.status_code == 204
    event.refresh_from_db()
    assert event.delivery_status == form["MessageStatus"]
