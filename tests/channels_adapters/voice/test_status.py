"""Call status callbacks: out of order, repeated, and a final status never regresses."""

import itertools

import pytest

from tests.channels_adapters.voice.conftest import call_sid, the_call

pytestmark = pytest.mark.django_db

PROGRESS = [
    {"CallStatus": "initiated", "SequenceNumber": "0"},
    {"CallStatus": "ringing", "SequenceNumber": "1"},
    {"CallStatus": "in-progress", "SequenceNumber": "2"},
    {"CallStatus": "completed", "SequenceNumber": "3", "CallDuration": "42"},
]


def test_callbacks_in_every_order_end_completed_with_the_duration(voice, on_duty):
    orders = list(itertools.permutations(PROGRESS))
    assert len(orders) == 24
    for n, order in enumerate(orders, start=1):
        voice.call(call_sid(n))
        voice.dial_outcome(call_sid(n), "completed")  # answered: not a missed call
        for form in order:
            response = voice.status(call_sid(n), **form)
            assert response.status_code == 204

        call = the_call(call_sid(n))
        assert (call.data["status"], call.delivery_status) == ("completed", "completed"), order
        assert call.data["duration"] == 42


def test_a_late_or_repeated_callback_never_moves_a_final_status(voice):
    voice.call()
    voice.status(status="no-answer", SequenceNumber="3")

    voice.status(status="ringing", SequenceNumber="1")
    voice.status(status="completed", SequenceNumber="4", CallDuration="9")
    voice.status(status="no-answer", SequenceNumber="3")

    call = the_call()
    assert call.data["status"] == "no-answer"
    assert "duration" not in call.data


def test_a_callback_about_an_unknown_call_or_status_is_accepted_and_ignored(voice):
    assert voice.status(call_sid(99), "completed").status_code == 204
    voice.call()
    assert voice.status(status="something-new").status_code == 204
    assert the_call().data["status"] == "ringing"
