import logging
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conversations.models import Case, Conversation, Customer, Event, Identity
from tests.channels_adapters.sms.conftest import (
    SHOP_NUMBER,
    SHOPPER,
    TwilioWebhooks,
    sid,
    signature,
)

pytestmark = pytest.mark.django_db

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'


def test_a_text_from_a_new_number_creates_a_customer_and_lands_in_its_conversation(twilio):
    response = twilio.sms("Do you have the T900 in stock?", sid=sid(1))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert response.content.decode() == EMPTY_TWIML
    identity = Identity.objects.get(kind="phone", value=SHOPPER)
    event = Event.objects.get()
    assert event.conversation == identity.customer.conversation
    assert (event.channel, event.direction, event.kind) == ("sms", "in", "message")
    assert event.body == "Do you have the T900 in stock?"
    assert event.source_id == sid(1)
    assert event.data == {"from": SHOPPER, "to": SHOP_NUMBER, "segments": 1}  # as Twilio posts it
    assert Case.objects.get().conversation == event.conversation  # a need opens a case


def test_a_second_text_lands_in_the_same_conversation(twilio):
    twilio.sms("first", sid=sid(1))

    twilio.sms("second", sid=sid(2), From="(415) 555-0123")  # the same number, written nationally

    assert Customer.objects.count() == 1
    conversation = Conversation.objects.get()
    assert list(conversation.events.values_list("seq", "body")) == [(1, "first"), (2, "second")]
    assert conversation.unread_count == 2


def test_it_ignores_a_repeated_message_sid(twilio):
    first = twilio.sms("hello", sid=sid(1))

    repeat = twilio.sms("hello", sid=sid(1))

    assert repeat.status_code == 200
    assert repeat.content == first.content
    assert Event.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_same_message_sid_20_times_at_once_writes_one_event(concurrently):
    def deliver():
        return TwilioWebhooks().sms("only once", sid=sid(7)).status_code

    statuses = concurrently(deliver, [()] * 20)

    assert statuses == [200] * 20
    assert Event.objects.filter(source_id=sid(7)).count() == 1
    assert Customer.objects.count() == 1
    assert Conversation.objects.get().last_seq == 1


def test_mms_media_references_are_kept_on_the_event(twilio):
    media = "https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/MM1/Media/ME1"

    twilio.sms("", sid=sid(1), NumMedia="1", MediaUrl0=media, MediaContentType0="image/jpeg")

    event = Event.objects.get()
    assert event.data["media"] == [{"url": media, "content_type": "image/jpeg"}]


def test_a_forged_signature_gets_403_and_writes_nothing(twilio):
    params = {"MessageSid": sid(1), "From": SHOPPER, "To": SHOP_NUMBER, "Body": "hi"}

    forged = twilio.post("/hooks/twilio/sms/", params, token="not-the-auth-token")
    unsigned = twilio.client.post(
        "/hooks/twilio/sms/", urlencode(params), content_type="application/x-www-form-urlencoded"
    )

    assert forged.status_code == unsigned.status_code == 403
    assert not Event.objects.exists() and not Customer.objects.exists()


def test_a_signature_header_that_is_not_base64_gets_403_not_500(twilio):
    params = {"MessageSid": sid(1), "From": SHOPPER, "To": SHOP_NUMBER, "Body": "hi"}

    response = twilio.client.post(
        "/hooks/twilio/sms/",
        urlencode(params),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE="sígnature ☃",
    )

    assert response.status_code == 403
    assert not Event.objects.exists()


def test_an_altered_field_gets_403_and_writes_nothing(twilio):
    signed_for = {"MessageSid": sid(1), "From": SHOPPER, "To": SHOP_NUMBER, "Body": "hi"}

    response = twilio.post(
        "/hooks/twilio/sms/", signed_for | {"Body": "send me a refund"}, sign_params=signed_for
    )

    assert response.status_code == 403
    assert not Event.objects.exists() and not Customer.objects.exists()


def test_the_signature_is_checked_against_public_base_url_not_the_host_header(twilio, settings):
    # Twilio signed https://shop.example.com/...; this process sees http://testserver/...
    # (TLS ends at the proxy): valid. The same request where we are someone else: refused.
    params = {"MessageSid": sid(1), "From": SHOPPER, "To": SHOP_NUMBER, "Body": "hi"}
    signed = signature("https://shop.example.com/hooks/twilio/sms/", params)

    def post():
        return twilio.client.post(
            "/hooks/twilio/sms/",
            urlencode(params),
            content_type="application/x-www-form-urlencoded",
            headers={"X-Twilio-Signature": signed},
        )

    settings.PUBLIC_BASE_URL = "https://elsewhere.example.com"
    assert post().status_code == 403
    settings.PUBLIC_BASE_URL = "https://shop.example.com"
    assert post().status_code == 200


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"MessageSid": ""}, "MessageSid"),
        ({"MessageSid": "not-a-sid"}, "MessageSid"),
        ({"From": ""}, "From"),
        ({"From": "not a phone!"}, "From"),  # 12 characters: no sender id either
        ({"Body": "", "NumMedia": "0"}, "neither a body nor media"),
        ({"NumMedia": "eleven"}, "NumMedia"),
        ({"NumMedia": "1"}, "MediaUrl0"),
        ({"Body": "x" * 1601}, "longer than"),
    ],
)
def test_bad_fields_get_400_with_a_reason_and_write_nothing(twilio, change, reason):
    params = {"MessageSid": sid(1), "From": SHOPPER, "To": SHOP_NUMBER, "Body": "hi"} | change

    response = twilio.post("/hooks/twilio/sms/", params)

    assert response.status_code == 400
    assert reason in response.content.decode()
    assert not Event.objects.exists() and not Customer.objects.exists()


def test_a_get_is_refused_with_405(twilio):
    response = twilio.client.get("/hooks/twilio/sms/")

    assert response.status_code == 405
    assert "POST" in response.content.decode()


def test_an_oversized_body_gets_413(twilio):
    response = twilio.sms("x" * 70_000, sid=sid(1))

    assert response.status_code == 413
    assert not Event.objects.exists()


def test_invalid_utf8_gets_400(twilio, settings):
    raw = f"MessageSid={sid(1)}&From=%2B14155550123&To=%2B14155550100&Body=caf%E9".encode()

    escaped = twilio.client.generic(
        "POST", "/hooks/twilio/sms/", raw, content_type="application/x-www-form-urlencoded"
    )
    raw_bytes = twilio.client.generic(
        "POST",
        "/hooks/twilio/sms/",
        b"Body=caf\xe9",
        content_type="application/x-www-form-urlencoded",
    )

    assert escaped.status_code == raw_bytes.status_code == 400
    assert "UTF-8" in escaped.content.decode()
    assert not Event.objects.exists()


def test_a_body_that_is_not_a_form_gets_415(twilio):
    response = twilio.client.post(
        "/hooks/twilio/sms/", {"Body": "hi"}, content_type="application/json"
    )

    assert response.status_code == 415


def test_the_hot_path_takes_a_bounded_number_of_queries(twilio):
    twilio.sms("first", sid=sid(1))

    with CaptureQueriesContext(connection) as queries:
        response = twilio.sms("second", sid=sid(2))

    assert response.status_code == 200
    # find the customer by phone, then the journal's own append (lock, seq, insert, summary)
    assert len(queries) <= 6, [q["sql"] for q in queries]


def test_logs_never_carry_the_phone_number_or_the_body(twilio, caplog):
    caplog.set_level(logging.DEBUG)

    twilio.sms("my secret order 1234", sid=sid(1))
    twilio.post("/hooks/twilio/sms/", {"From": SHOPPER, "Body": "forged secret"}, token="wrong")

    text = caplog.text
    assert "secret" not in text
    assert "5550123" not in text
