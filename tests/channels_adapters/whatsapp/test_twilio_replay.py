"""Every WhatsApp payload in tests/fixtures/twilio/whatsapp/, replayed as Twilio posts it:
form-encoded in Twilio's order, signed with RequestValidator over PUBLIC_BASE_URL + path,
through the real URL. A fixture without a replay here fails `test_every_fixture_is_replayed`."""

from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.test import Client

from channels_adapters.whatsapp.outbound import send_whatsapp
from conversations import outbox
from conversations.models import Case, Customer, Event, Identity, Outbox
from tests.fakes.twilio_payloads import payload, post_signed, sign

from .conftest import INBOUND_URL, SHOP_NUMBER, SHOPPER, STATUS_URL, replay, status, write_in

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "twilio" / "whatsapp"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'
INBOUND = [
    "inbound_text",
    "inbound_image",
    "inbound_location",
    "inbound_button",
    "inbound_referral",
]
STATUSES = ["status_sent", "status_delivered", "status_read", "status_failed_63016"]


def test_every_fixture_is_replayed():
    assert sorted(p.stem for p in FIXTURES.glob("*.json")) == sorted(INBOUND + STATUSES)


def counts() -> tuple[int, ...]:
    return tuple(m.objects.count() for m in (Customer, Identity, Event, Outbox))


# ---------------------------------------------------------------------------- inbound


def test_a_text_is_a_whatsapp_message_of_a_whatsapp_identity():
    form, response = replay("inbound_text")

    assert response.status_code == 200 and response.content.decode() == EMPTY_TWIML
    event = Event.objects.get()
    assert (event.channel, event.kind, event.direction) == ("whatsapp", "message", "in")
    assert (event.source_id, event.body) == (form["MessageSid"], form["Body"])
    assert event.data == {
        "from": SHOPPER,
        "to": SHOP_NUMBER,
        "sender_kind": "whatsapp",
        "profile_name": "Dana",
        "message_type": "text",
        "segments": 1,
    }
    assert list(Identity.objects.values_list("kind", "value")) == [("whatsapp", SHOPPER)]
    assert Case.objects.get().conversation_id == event.conversation_id


def test_an_image_keeps_its_media_url_and_type_without_a_body():
    form, response = replay("inbound_image")

    assert response.status_code == 200
    event = Event.objects.get()
    assert event.body == ""
    assert event.data["message_type"] == "image"
    assert event.data["media"] == [{"url": form["MediaUrl0"], "content_type": "image/jpeg"}]


def test_a_shared_location_is_kept_and_said_in_words():
    form, response = replay("inbound_location")

    assert response.status_code == 200
    event = Event.objects.get()
    assert event.body == "Shared a location: Throughline Cycles"
    assert event.data["location"] == {
        "latitude": 37.7879277,
        "longitude": -122.4074986,
        "address": form["Address"],
        "label": "Throughline Cycles",
    }


def test_a_template_button_press_is_its_text_with_its_payload_and_our_message():
    form, response = replay("inbound_button")

    assert response.status_code == 200
    event = Event.objects.get()
    assert event.body == "Yes, keep it for me"
    assert event.data["button"] == {"text": "Yes, keep it for me", "payload": "keep_cart"}
    assert event.data["in_reply_to_sid"] == form["OriginalRepliedMessageSid"]


def test_a_click_to_whatsapp_ad_is_kept_as_the_referral():
    form, response = replay("inbound_referral")

    assert response.status_code == 200
    referral = Event.objects.get().data["referral"]
    assert referral["source_type"] == "ad"
    assert referral["source_url"] == form["ReferralSourceUrl"]
    assert referral["ctwa_clid"] == form["ReferralCtwaClid"]
    assert referral["headline"] == "T900 folding bike"


@pytest.mark.parametrize("name", INBOUND)
def test_a_repeat_writes_nothing_and_answers_the_same(name):
    form, first = replay(name)
    before = counts()

    again = post_signed(INBOUND_URL, form)

    assert (again.status_code, again.content) == (first.status_code, first.content)
    assert counts() == before


@pytest.mark.parametrize("name", INBOUND)
@pytest.mark.parametrize("url", [INBOUND_URL, "/hooks/twilio/sms/"])
def test_both_webhooks_store_the_same_whatsapp_message(name, url):
    form, response = replay(name, url)

    assert response.status_code == 200
    event = Event.objects.get()
    assert event.channel == "whatsapp" and event.source_id == form["MessageSid"]
    assert Identity.objects.get().kind == "whatsapp"


# ---------------------------------------------------------------------------- signatures


@pytest.mark.parametrize("name", INBOUND + STATUSES)
@pytest.mark.parametrize(
    "header",
    [None, "forged", "tampered"],
    ids=["missing", "forged", "tampered"],
)
def test_a_bad_signature_is_403_and_stores_nothing(name, header):
    url = INBOUND_URL if name.startswith("inbound") else STATUS_URL
    form = payload("whatsapp", name)
    headers = {}
    if header == "forged":
        headers["X-Twilio-Signature"] = sign(url, form, token="not-the-token")
    elif header == "tampered":  # signed, then a field changed on the way
        headers["X-Twilio-Signature"] = sign(url, form)
        form = {**form, "From": "whatsapp:+14155550199"}

    response = Client().post(
        url, urlencode(form), content_type="application/x-www-form-urlencoded", headers=headers
    )

    assert response.status_code == 403
    assert counts() == (0, 0, 0, 0)


# ---------------------------------------------------------------------------- statuses


def sent_message(sent) -> Event:
    write_in()
    event = send_whatsapp(customer=Customer.objects.get(), body="It is, in blue and red.")
    outbox.deliver(event.outbox.pk)
    event.refresh_from_db()
    return event


@pytest.mark.parametrize(
    ("name", "expected"),
    [("status_sent", "sent"), ("status_delivered", "delivered"), ("status_read", "read")],
)
def test_each_status_reaches_the_sent_message(sent, name, expected):
    event = sent_message(sent)

    response = status(event.source_id, name)

    assert response.status_code == 204
    event.refresh_from_db()
    assert event.delivery_status == expected


def test_63016_fails_the_message_with_words_an_agent_can_act_on(sent):
    event = sent_message(sent)

    response = status(event.source_id, "status_failed_63016")

    assert response.status_code == 204
    event.refresh_from_db()
    assert event.delivery_status == "failed"
    assert event.data["delivery_error"] == "63016"
    assert "outside WhatsApp's 24-hour window" in event.data["delivery_error_reason"]
    assert Identity.objects.get(kind="whatsapp").opted_out_at is None


def test_statuses_in_any_order_and_repeated_end_at_the_furthest(sent):
    event = sent_message(sent)

    for name in ["status_read", "status_sent", "status_delivered", "status_read", "status_sent"]:
        assert status(event.source_id, name).status_code == 204

    event.refresh_from_db()
    assert event.delivery_status == "read"


def test_a_status_for_an_unknown_message_is_204_and_ignored(sent):
    response = status("SM" + "9" * 32, "status_delivered")

    assert response.status_code == 204
    assert counts() == (0, 0, 0, 0)


def test_a_callback_settles_a_row_whose_worker_never_stored_twilios_id(sent):
    write_in()
    event = send_whatsapp(customer=Customer.objects.get(), body="hi")
    item = event.outbox

    response = status("SM" + "5" * 32, "status_delivered", outbox_id=item.pk)

    assert response.status_code == 204
    item.refresh_from_db()
    assert (item.status, item.provider_id) == ("sent", "SM" + "5" * 32)


def test_a_whatsapp_status_at_the_sms_status_webhook_reaches_the_whatsapp_message(sent):
    event = sent_message(sent)

    form = payload("whatsapp", "status_read", MessageSid=event.source_id, SmsSid=event.source_id)
    response = post_signed("/hooks/twilio/sms/status/", form)

    assert response.status_code == 204
    event.refresh_from_db()
    assert event.delivery_status == "read"
