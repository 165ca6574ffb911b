"""Issue 14: the voice webhooks read Twilio's form strictly; odd numbers never make a 500."""

import pytest

from conversations.models import Event
from tests.fakes.twilio_payloads import payload, post_signed

pytestmark = pytest.mark.django_db


def a_call():
    assert post_signed("/hooks/twilio/voice/", payload("voice", "inbound_call")).status_code == 200
    return Event.objects.get(kind="call")


def test_an_inbound_call_as_twilio_posts_it_is_recorded_and_greeted():
    call = a_call()

    assert (call.channel, call.direction, call.data["status"]) == ("voice", "in", "ringing")


def test_a_transcription_callback_as_twilio_posts_it_lands_on_the_call():
    call = a_call()

    response = post_signed("/hooks/twilio/voice/recording/", payload("voice", "transcription"))

    assert response.status_code == 200
    call.refresh_from_db()
    assert call.data["transcript"] == payload("voice", "transcription")["TranscriptionText"]


@pytest.mark.parametrize("field", ["CallDuration", "SequenceNumber"])
@pytest.mark.parametrize("value", ["²", "३", "--5", "1e3", "9" * 40])
def test_an_odd_counter_in_a_status_callback_is_dropped_and_the_status_kept(field, value):
    call = a_call()

    form = payload("voice", "status_completed", **{field: value})
    response = post_signed("/hooks/twilio/voice/status/", form)

    assert response.status_code == 204
    call.refresh_from_db()
    assert call.data["status"] == "completed"


@pytest.mark.parametrize("duration", ["--5", "²", "-", "5-"])
def test_an_odd_recording_duration_keeps_the_recording(duration):
    call = a_call()

    form = payload("voice", "recording_action", RecordingDuration=duration)
    response = post_signed("/hooks/twilio/voice/recording/", form)

    assert response.status_code == 200
    call.refresh_from_db()
    assert call.data["recording_url"] == form["RecordingUrl"]
    assert "recording_duration" not in call.data


def test_twilios_minus_one_duration_is_zero():
    call = a_call()

    form = payload("voice", "recording_action", RecordingDuration="-1")
    post_signed("/hooks/twilio/voice/recording/", form)

    call.refresh_from_db()
    assert call.data["recording_duration"] == 0


@pytest.mark.parametrize("query", ["?call=%C2%B2", "?call=-1", "?call=99999999999999999999"])
def test_an_odd_call_id_in_our_callback_url_is_ignored(query):
    form = payload("voice", "status_completed")

    assert post_signed("/hooks/twilio/voice/status/" + query, form).status_code == 204
    assert post_signed("/hooks/twilio/voice/bridge/" + query, form).status_code == 200


def test_a_nul_in_the_speech_drops_the_speech_and_still_routes_the_call():
    call = a_call()

    form = payload("voice", "gather_speech", SpeechResult="belt\x00slipping")
    response = post_signed("/hooks/twilio/voice/gather/", form)

    assert response.status_code == 200 and b"<Record" in response.content
    call.refresh_from_db()
    assert "said" not in call.data


@pytest.mark.parametrize("digits", ["²", "12a", "1" * 33])
def test_keys_that_are_not_keypad_keys_are_a_400_that_writes_nothing(digits):
    call = a_call()

    form = payload("voice", "gather_digits", Digits=digits)
    response = post_signed("/hooks/twilio/voice/gather/", form)

    assert response.status_code == 400 and b"Digits" in response.content
    call.refresh_from_db()
    assert "routed_to" not in call.data


def test_a_caller_we_cannot_know_is_still_answered():
    form = payload("voice", "inbound_call", From="anonymous", Caller="anonymous")

    response = post_signed("/hooks/twilio/voice/", form)

    assert response.status_code == 200 and b"<Record" in response.content
    assert not Event.objects.exists()
