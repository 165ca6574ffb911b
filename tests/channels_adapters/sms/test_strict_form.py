"""Issue 14: every field is read strictly; odd but signed forms get 2xx or a 400, never a 500."""

import pytest

from channels_adapters.twilio_form import BadForm, TwilioForm
from conversations.models import Customer, Event, Identity
from tests.channels_adapters.sms.test_payloads import STATUS_URL, replay
from tests.fakes.twilio_payloads import payload, post_signed

pytestmark = pytest.mark.django_db


def nothing_written() -> bool:
    return not (Event.objects.exists() or Identity.objects.exists() or Customer.objects.exists())


@pytest.mark.parametrize("segments", ["²", "३", "1\u00b2", "-1", "99999999999999999999999"])
def test_an_odd_num_segments_is_dropped_and_the_message_kept(segments):
    response = replay("inbound_sms", NumSegments=segments)

    assert response.status_code == 200
    assert "segments" not in Event.objects.get().data


@pytest.mark.parametrize("num_media", ["²", "\uff11", "-0", "11"])
def test_an_odd_num_media_is_a_400_that_writes_nothing(num_media):
    response = replay("inbound_mms", NumMedia=num_media)

    assert response.status_code == 400 and b"NumMedia" in response.content
    assert nothing_written()


@pytest.mark.parametrize(
    "field, value",
    [
        ("Body", "hello\x00world"),
        ("To", "+14155550100\x00"),
        ("From", "+14155550123\x00"),
        ("MediaContentType0", "image/jpeg\x00"),
    ],
)
def test_a_nul_character_is_a_400_that_says_so_and_writes_nothing(field, value):
    response = replay("inbound_mms", **{field: value})

    assert response.status_code == 400, response.content
    assert field.encode() in response.content
    assert nothing_written()


def test_text_is_stored_in_nfc():
    replay("inbound_sms", Body="Cafe\u0301 open?")  # e + combining acute

    assert Event.objects.get().body == "Caf\u00e9 open?"


def test_the_reader_refuses_a_lone_surrogate():
    # UTF-8 cannot carry one (twilio_signature refuses such a body first); the reader does not
    # rely on that.
    with pytest.raises(BadForm, match="lone surrogate"):
        TwilioForm({"Body": "hi \ud800"}).text("Body", max_chars=100)


def test_an_odd_outbox_id_in_the_status_url_is_ignored_not_a_500():
    form = payload("sms", "status_delivered")

    response = post_signed(f"{STATUS_URL}?outbox=%C2%B2", form)  # "²", as a URL carries it

    assert response.status_code == 204


def test_an_odd_error_code_keeps_the_status():
    form = payload("sms", "status_undelivered", ErrorCode="\uff130003")

    assert post_signed(STATUS_URL, form).status_code == 204


@pytest.mark.parametrize("sender", ["+1 not valid", "messenger:12345", "12", "TooLongSenderId"])
def test_a_sender_that_is_none_of_the_four_kinds_is_a_400_with_the_reason(sender):
    response = replay("inbound_sms", From=sender)

    assert response.status_code == 400 and b"From is not a phone number" in response.content
    assert nothing_written()
