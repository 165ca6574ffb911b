"""Every voice payload in tests/fixtures/twilio/voice/, replayed as Twilio posts it.

Each fixture is posted form-encoded in Twilio's field order, signed with the `twilio`
package's RequestValidator over PUBLIC_BASE_URL + path, through the real URL, in the
order a call produces them; each test checks the rows it leaves and the TwiML answer.
A forged or missing signature stores nothing, for every fixture. A fixture added without
a replay here fails `test_every_fixture_is_replayed`.
"""

from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.test import Client

from channels_adapters.voice.outbound import call_back
from conversations.models import Customer, Event, Identity
from tests.channels_adapters.voice.conftest import AGENT_PHONE, CALLER, SHOP_NUMBER, twiml, verbs
from tests.factories import CustomerFactory
from tests.fakes.twilio_payloads import payload, post_signed, sign

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "twilio" / "voice"
URLS = {
    "inbound_call": "/hooks/twilio/voice/",
    "gather_digits": "/hooks/twilio/voice/gather/",
    "gather_speech": "/hooks/twilio/voice/gather/",
    "status_completed": "/hooks/twilio/voice/status/",
    "status_ringing": "/hooks/twilio/voice/status/",
    "status_in_progress": "/hooks/twilio/voice/status/",
    "status_no_answer": "/hooks/twilio/voice/status/",
    "status_busy": "/hooks/twilio/voice/status/",
    "dial_no_answer": "/hooks/twilio/voice/status/",
    "recording_action": "/hooks/twilio/voice/recording/",
    "recording_status": "/hooks/twilio/voice/recording/",
    "recording_absent": "/hooks/twilio/voice/recording/",
    "transcription": "/hooks/twilio/voice/recording/",
}
CALL_SID = payload("voice", "inbound_call")["CallSid"]


def replay(name: str, query: str = "", **changes):
    form = payload("voice", name, **changes)
    return form, post_signed(URLS[name] + query, form)


def the_call(sid: str = CALL_SID) -> Event:
    return Event.objects.get(channel="voice", kind="call", source_id=sid)


def test_every_fixture_is_replayed():
    assert sorted(p.stem for p in FIXTURES.glob("*.json")) == sorted(URLS)


# ---------------------------------------------------------------------------- an inbound call


def test_an_incoming_call_is_recorded_and_the_caller_is_greeted_and_asked_why():
    form, response = replay("inbound_call")

    assert verbs(twiml(response)) == ["Say", "Gather", "Redirect"]
    call = the_call()
    assert (call.kind, call.direction, call.delivery_status) == ("call", "in", "ringing")
    assert call.data == {"from": CALLER, "to": SHOP_NUMBER, "status": form["CallStatus"]}
    assert list(Identity.objects.values_list("kind", "value")) == [("phone", CALLER)]


def test_pressing_1_with_an_agent_free_dials_the_agent(on_duty):
    replay("inbound_call")

    form, response = replay("gather_digits")

    root = twiml(response)
    assert verbs(root) == ["Say", "Dial"] and root.find("Dial/Number").text == AGENT_PHONE
    call = the_call()
    assert (call.data["digits"], call.data["routed_to"]) == (form["Digits"], on_duty.user_id)


def test_what_the_caller_said_is_kept_and_with_nobody_free_they_get_voicemail():
    replay("inbound_call")

    form, response = replay("gather_speech")

    assert "Record" in verbs(twiml(response))
    call = the_call()
    assert call.data["said"] == form["SpeechResult"]
    assert call.data["voicemail_offered"] is True and call.data["routed_to"] is None


def test_the_agent_not_answering_the_dial_sends_the_caller_to_voicemail(on_duty):
    replay("inbound_call")
    replay("gather_digits")

    _, response = replay("dial_no_answer")

    assert "Record" in verbs(twiml(response))
    call = the_call()
    assert (call.data["dial_status"], call.data["voicemail_offered"]) == ("no-answer", True)
    assert "answered" not in call.data


def test_a_completed_call_nobody_took_or_left_a_message_on_is_a_missed_call():
    replay("inbound_call")

    form, response = replay("status_completed")

    assert response.status_code == 204
    call = the_call()
    assert (call.delivery_status, call.data["duration"]) == ("completed", int(form["CallDuration"]))
    missed = Event.objects.get(kind="missed_call")
    assert (missed.data, missed.conversation_id) == ({"call": call.pk}, call.conversation_id)


# ---------------------------------------------------------------------------- voicemail


@pytest.fixture
def offered_voicemail():
    replay("inbound_call")
    replay("gather_speech")


def test_the_record_action_makes_the_call_a_voicemail(offered_voicemail):
    form, response = replay("recording_action")

    assert verbs(twiml(response)) == ["Say", "Hangup"]
    call = the_call()
    assert call.data["recording_url"] == form["RecordingUrl"]
    assert (call.data["recording_sid"], call.data["recording_duration"]) == (
        form["RecordingSid"],
        int(form["RecordingDuration"]),
    )
    assert call.data["voicemail"] is True


def test_the_recording_status_callback_adds_its_status(offered_voicemail):
    form, _ = replay("recording_status")

    call = the_call()
    assert call.data["recording_status"] == form["RecordingStatus"] == "completed"
    assert call.data["recording_url"] == form["RecordingUrl"]


def test_the_transcription_callback_adds_the_transcript(offered_voicemail):
    replay("recording_action")

    form, _ = replay("transcription")

    call = the_call()
    assert call.data["transcript"] == form["TranscriptionText"]
    assert call.data["transcription_status"] == "completed"


def test_an_absent_recording_after_the_call_ended_makes_it_a_missed_call(offered_voicemail):
    replay("status_completed")
    assert not Event.objects.filter(kind="missed_call").exists()  # waits for its voicemail

    replay("recording_absent")

    call = the_call()
    assert call.data["recording_status"] == "absent" and "recording_url" not in call.data
    assert Event.objects.get(kind="missed_call").data == {"call": call.pk}


# ---------------------------------------------------------------------------- a call we start


@pytest.fixture
def call_back_started(agent, on_duty, placed_calls):
    """The agent's "Call back": the call rings the agent's phone first (locmem backend)."""
    customer = CustomerFactory()
    Identity.objects.create(customer=customer, kind="phone", value=CALLER)
    return call_back(customer=customer, agent=agent)


def progress(name: str, event: Event):
    form, response = replay(name, f"?call={event.pk}", CallSid=event.source_id)
    assert response.status_code == 204, response.content
    event.refresh_from_db()
    return form


@pytest.mark.parametrize("name", ["status_ringing", "status_in_progress"])
def test_progress_of_a_call_back_moves_its_status(name, call_back_started):
    form = progress(name, call_back_started)

    assert call_back_started.delivery_status == form["CallStatus"]
    assert call_back_started.data["sequence"] == int(form["SequenceNumber"])
    assert "duration" not in call_back_started.data


@pytest.mark.parametrize("name", ["status_no_answer", "status_busy"])
def test_an_unanswered_call_back_ends_with_its_status_and_no_missed_call(name, call_back_started):
    progress("status_ringing", call_back_started)

    form = progress(name, call_back_started)

    assert call_back_started.delivery_status == form["CallStatus"]
    assert call_back_started.data["duration"] == 0
    assert not Event.objects.filter(kind="missed_call").exists()  # we called: nobody missed us


def test_a_late_ringing_after_busy_leaves_it_busy(call_back_started):
    progress("status_busy", call_back_started)

    progress("status_ringing", call_back_started)

    assert call_back_started.delivery_status == "busy"


# ---------------------------------------------------------------------------- signature


def post_form(path: str, form: dict, signature: str | None):
    headers = {"X-Twilio-Signature": signature} if signature else {}
    return Client().post(
        path, urlencode(form), content_type="application/x-www-form-urlencoded", headers=headers
    )


@pytest.mark.parametrize("name", sorted(URLS))
def test_a_forged_signature_is_refused_and_stores_nothing(name):
    form, path = payload("voice", name), URLS[name]

    forged = post_form(path, form, sign(path, form, token="not-the-auth-token"))
    unsigned = post_form(path, form, None)
    tampered = post_form(path, form | {"From": "+14155550199"}, sign(path, form))

    assert [forged.status_code, unsigned.status_code, tampered.status_code] == [403, 403, 403]
    assert not Event.objects.exists() and not Customer.objects.exists()
