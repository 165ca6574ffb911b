"""Voicemail recordings and transcripts reach the call event in either order, and search."""

import pytest
from django.test import Client

from tests.channels_adapters.voice.conftest import call_sid, recording_sid, the_call, twiml, verbs

pytestmark = pytest.mark.django_db

RECORDING = {
    "RecordingUrl": "https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE1",
    "RecordingSid": recording_sid(1),
    "RecordingDuration": "14",
    "RecordingStatus": "completed",
}
TRANSCRIPTION = {
    "TranscriptionStatus": "completed",
    "TranscriptionText": "Hi, my T900 belt is slipping, please call me back.",
    "RecordingSid": recording_sid(1),
}


@pytest.mark.parametrize("order", [("recording", "transcript"), ("transcript", "recording")])
def test_recording_and_transcript_attach_in_either_order(voice, order):
    voice.call()
    forms = {"recording": RECORDING, "transcript": TRANSCRIPTION}

    answers = [voice.recording(**forms[name]) for name in order]

    assert all(verbs(twiml(answer)) == ["Say", "Hangup"] for answer in answers)
    data = the_call().data
    assert data["recording_url"] == RECORDING["RecordingUrl"]
    assert data["recording_duration"] == 14
    assert data["transcript"] == TRANSCRIPTION["TranscriptionText"]
    assert data["voicemail"] is True


def test_a_failed_transcription_keeps_the_recording(voice):
    voice.call()
    voice.recording(**RECORDING)

    voice.recording(TranscriptionStatus="failed", RecordingSid=recording_sid(1))

    data = the_call().data
    assert data["transcription_status"] == "failed" and "transcript" not in data
    assert data["recording_url"] == RECORDING["RecordingUrl"]


def test_agents_find_the_conversation_by_words_from_the_transcript(voice, agent):
    voice.call()
    voice.recording(**TRANSCRIPTION)
    client = Client()
    client.force_login(agent)

    found = client.get("/admin/conversations/conversation/", {"q": "belt is slipping"})
    missing = client.get("/admin/conversations/conversation/", {"q": "nothing like it"})
    page = client.get(f"/admin/conversations/conversation/{the_call().conversation_id}/change/")

    assert found.status_code == 200 and found.context["cl"].result_count == 1
    assert missing.context["cl"].result_count == 0
    assert "belt is slipping" in page.content.decode()


def test_a_recording_for_an_unknown_call_still_gets_twiml(voice):
    assert verbs(twiml(voice.recording(call_sid(42), **RECORDING))) == ["Say", "Hangup"]
