"""Every messaging payload in tests/fixtures/twilio/sms/, replayed as Twilio posts it.

Each fixture is posted form-encoded in Twilio's field order, signed with the `twilio`
package's RequestValidator over PUBLIC_BASE_URL + path, through the real URL; each test
checks the rows it leaves. A forged or missing signature stores nothing, for every
fixture. A fixture added without a replay here fails `test_every_fixture_is_replayed`.
"""

from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.test import Client

from channels_adapters.sms.outbound import send_sms
from conversations import outbox
from conversations.models import Case, Customer, Event, Identity, Outbox
from tests.channels_adapters.sms.conftest import SHOP_NUMBER, SHOPPER
from tests.factories import CustomerFactory
from tests.fakes.twilio_payloads import payload, post_signed, sign

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "twilio" / "sms"
INBOUND_URL = "/hooks/twilio/sms/"
STATUS_URL = "/hooks/twilio/sms/status/"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'
INBOUND = [
    "inbound_sms",
    "inbound_mms",
    "whatsapp_inbound",
    "short_code_sender",
    "alphanumeric_sender",
]
STATUSES = [
    "status_queued",
    "status_sent",
    "status_delivered",
    "status_undelivered",
    "status_failed",
]


def replay(name: str):
    form = payload("sms", name)
    return form, post_signed(INBOUND_URL, form)


def test_every_fixture_is_replayed():
    assert sorted(p.stem for p in FIXTURES.glob("*.json")) == sorted(INBOUND + STATUSES)


# ---------------------------------------------------------------------------- inbound


def test_a_text_lands_in_the_senders_conversation_with_twilios_ids():
    form, response = replay("inbound_sms")

    assert response.status_code == 200 and response.content.decode() == EMPTY_TWIML
    event = Event.objects.get()
    assert (event.channel, event.kind, event.direction) == ("sms", "message", "in")
    assert (event.source_id, event.body) == (form["MessageSid"], form["Body"])
    assert event.data == {"from": SHOPPER, "to": SHOP_NUMBER, "segments": 1}
    assert list(Identity.objects.values_list("kind", "value")) == [("phone", SHOPPER)]
    assert Case.objects.get().conversation_id == event.conversation_id


def test_an_mms_keeps_its_media_url_and_type_and_its_caption():
    form, response = replay("inbound_mms")

    assert response.status_code == 200
    event = Event.objects.get()
    assert event.source_id == form["MessageSid"] and event.source_id.startswith("MM")
    assert event.body == form["Body"]
    assert event.data["media"] == [
        {"url": form["MediaUrl0"], "content_type": form["MediaContentType0"]}
    ]


def test_a_whatsapp_message_is_a_whatsapp_identity_on_the_whatsapp_channel():
    form, response = replay("whatsapp_inbound")

    assert response.status_code == 200
    event = Event.objects.get()
    assert (event.channel, event.body, event.source_id) == (
        "whatsapp",
        form["Body"],
        form["MessageSid"],
    )
    assert (event.data["from"], event.data["to"]) == (SHOPPER, SHOP_NUMBER)
    assert event.data["sender_kind"] == "whatsapp"
    assert list(Identity.objects.values_list("kind", "value")) == [("whatsapp", SHOPPER)]


def test_a_short_code_sender_is_a_short_code_identity():
    form, response = replay("short_code_sender")

    assert response.status_code == 200
    event = Event.objects.get()
    assert (event.channel, event.body) == ("sms", form["Body"])
    assert (event.data["from"], event.data["sender_kind"]) == ("72345", "short_code")
    assert list(Identity.objects.values_list("kind", "value")) == [("short_code", "72345")]


def test_an_alphanumeric_sender_is_an_alphanumeric_identity():
    form, response = replay("alphanumeric_sender")

    assert response.status_code == 200
    event = Event.objects.get()
    assert event.body == form["Body"]
    assert (event.data["from"], event.data["sender_kind"]) == ("FastShip", "alphanumeric")
    assert list(Identity.objects.values_list("kind", "value")) == [("alphanumeric", "FastShip")]


def test_a_replayed_delivery_writes_nothing_more_and_gets_the_same_answer():
    _, first = replay("inbound_mms")

    _, again = replay("inbound_mms")

    assert again.status_code == 200 and again.content == first.content
    assert Event.objects.count() == 1 and Customer.objects.count() == 1


# ---------------------------------------------------------------------------- status


@pytest.fixture
def sent_text(sent_sms):
    """A text to the shopper, handed to the (locmem) backend: Twilio's answer was queued."""
    customer = CustomerFactory()
    Identity.objects.create(customer=customer, kind="phone", value=SHOPPER)
    event = send_sms(customer=customer, body="Your bike is ready")
    assert outbox.deliver(event.outbox.pk) == "sent"
    event.refresh_from_db()
    return event


def replay_status(name: str, event: Event, **changes):
    form = payload("sms", name, MessageSid=event.source_id, SmsSid=event.source_id, **changes)
    response = post_signed(f"{STATUS_URL}?outbox={event.outbox.pk}", form)
    assert response.status_code == 204, response.content
    event.refresh_from_db()
    return form


def test_a_queued_callback_settles_a_text_whose_worker_never_recorded_twilios_answer(sent_sms):
    customer = CustomerFactory()
    Identity.objects.create(customer=customer, kind="phone", value=SHOPPER)
    event = send_sms(customer=customer, body="Your bike is ready")  # never delivered here
    form = payload("sms", "status_queued")

    response = post_signed(f"{STATUS_URL}?outbox={event.outbox.pk}", form)

    assert response.status_code == 204
    event.refresh_from_db()
    assert (event.delivery_status, event.source_id) == ("queued", form["MessageSid"])
    item = Outbox.objects.get()
    assert (item.status, item.provider_id) == (Outbox.Status.SENT, form["MessageSid"])


@pytest.mark.parametrize("name", ["status_sent", "status_delivered"])
def test_sent_and_delivered_move_the_message_forward(name, sent_text):
    form = replay_status(name, sent_text)

    assert sent_text.delivery_status == form["MessageStatus"]
    assert "delivery_error" not in sent_text.data


def test_a_late_sent_after_delivered_leaves_it_delivered(sent_text):
    replay_status("status_delivered", sent_text)

    replay_status("status_sent", sent_text)

    assert sent_text.delivery_status == "delivered"


def test_undelivered_keeps_twilios_error_code_and_says_why_in_words(sent_text):
    replay_status("status_undelivered", sent_text)

    assert sent_text.delivery_status == "undelivered"
    assert sent_text.data["delivery_error"] == "30003"
    assert sent_text.data["delivery_error_reason"] == "The phone is switched off or out of reach."
    assert Identity.objects.get().opted_out_at is None


def test_failed_with_21610_opts_the_recipient_out(sent_text):
    replay_status("status_failed", sent_text)

    assert (sent_text.delivery_status, sent_text.data["delivery_error"]) == ("failed", "21610")
    assert Identity.objects.get().opted_out_at is not None


def test_a_status_for_a_message_we_never_sent_is_accepted_and_ignored():
    response = post_signed(STATUS_URL, payload("sms", "status_delivered"))

    assert response.status_code == 204
    assert not Event.objects.exists()


# ---------------------------------------------------------------------------- signature


def post_form(path: str, form: dict, signature: str | None):
    headers = {"X-Twilio-Signature": signature} if signature else {}
    return Client().post(
        path, urlencode(form), content_type="application/x-www-form-urlencoded", headers=headers
    )


def url_of(name: str) -> str:
    return STATUS_URL if name.startswith("status_") else INBOUND_URL


@pytest.mark.parametrize("name", INBOUND + STATUSES)
def test_a_forged_signature_is_refused_and_stores_nothing(name):
    form = payload("sms", name)
    path = url_of(name)

    forged = post_form(path, form, sign(path, form, token="not-the-auth-token"))
    unsigned = post_form(path, form, None)
    tampered = post_form(path, form | {"To": "+14155550199"}, sign(path, form))

    assert [forged.status_code, unsigned.status_code, tampered.status_code] == [403, 403, 403]
    assert not Event.objects.exists() and not Customer.objects.exists()
