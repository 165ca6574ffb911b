"""Issue 14: a call's `completed` status and its voicemail's callbacks give the same rows in
any order and any number of repeats: a voicemail is never also a missed call."""

import itertools
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from channels_adapters.voice import missed
from conversations.models import Case, Event, Outbox
from tests.channels_adapters.voice.conftest import CALLER
from tests.fakes.twilio_payloads import payload, post_signed

pytestmark = pytest.mark.django_db

SID = payload("voice", "inbound_call")["CallSid"]
URLS = {
    "status": "/hooks/twilio/voice/status/",
    "action": "/hooks/twilio/voice/recording/",
    "recording_status": "/hooks/twilio/voice/recording/",
    "transcription": "/hooks/twilio/voice/recording/",
    "absent": "/hooks/twilio/voice/recording/",
}
FIXTURES = {
    "status": "status_completed",
    "action": "recording_action",
    "recording_status": "recording_status",
    "transcription": "transcription",
    "absent": "recording_absent",
}


def callback(name: str, **changes):
    response = post_signed(URLS[name], payload("voice", FIXTURES[name], **changes))
    assert response.status_code in (200, 204), response.content
    return response


def offered_voicemail(sid: str = SID, caller: str = CALLER) -> None:
    """A call nobody is free to take: the caller is offered voicemail."""
    call = payload("voice", "inbound_call", CallSid=sid, From=caller, Caller=caller)
    assert post_signed("/hooks/twilio/voice/", call).status_code == 200
    gather = payload("voice", "gather_speech", CallSid=sid, From=caller, Caller=caller)
    assert post_signed("/hooks/twilio/voice/gather/", gather).status_code == 200
    assert Event.objects.get(kind="call", source_id=sid).data["voicemail_offered"] is True


def rows(sid: str = SID) -> dict:
    """What the webhooks wrote for one call and its caller, without ids or times."""
    call = Event.objects.get(kind="call", source_id=sid)
    conversation = call.conversation
    return {
        "events": sorted(conversation.events.values_list("kind", "channel", "direction")),
        "call": {k: v for k, v in call.data.items() if k not in ("sequence", "from")},
        "status": call.delivery_status,
        "hot": list(conversation.cases.values_list("priority", flat=True)),
        "offers": Outbox.objects.filter(event__conversation=conversation).count(),
    }


VOICEMAIL_CALLBACKS = ["status", "action", "recording_status", "transcription"]
TWILIOS_USUAL_ORDER = ("action", "status", "recording_status", "transcription")


def run(order, *, sid: str, caller: str) -> dict:
    offered_voicemail(sid, caller)
    for name in order:
        callback(name, CallSid=sid)
    return rows(sid)


@pytest.mark.parametrize("order", list(itertools.permutations(VOICEMAIL_CALLBACKS)), ids="-".join)
def test_a_voicemail_gives_the_same_rows_whichever_callback_comes_first(order):
    # given the rows of Twilio's usual order, for one caller
    usual = run(TWILIOS_USUAL_ORDER, sid=f"CA{1:032x}", caller="+14155550131")

    # when another caller's callbacks come in this order
    result = run(order, sid=f"CA{2:032x}", caller="+14155550132")

    # then the rows are the same, and a voicemail is no missed call
    assert result == usual
    assert result["events"] == [("call", "voice", "in")]
    assert result["call"]["voicemail"] is True and "missed" not in result["call"]
    assert missed.AWAITING not in result["call"]
    assert result["hot"] == [Case.Priority.NORMAL] and result["offers"] == 0


@pytest.mark.parametrize("first", ["status", "action"])
def test_status_before_or_after_the_recording_action_gives_identical_rows(first):
    offered_voicemail()
    second = "action" if first == "status" else "status"

    callback(first)
    callback(second)

    result = rows()
    assert result["events"] == [("call", "voice", "in")]
    assert result["call"]["recording_url"] == payload("voice", "recording_action")["RecordingUrl"]
    assert result["call"]["recording_duration"] == 14
    assert result["call"]["status"] == "completed"
    assert "missed" not in result["call"] and missed.AWAITING not in result["call"]


@pytest.mark.parametrize("first", ["status", "action"])
def test_repeats_of_each_callback_change_nothing(first):
    offered_voicemail()
    second = "action" if first == "status" else "status"
    callback(first)
    callback(second)
    once = rows()

    for name in [first, second, first, second]:
        callback(name)

    assert rows() == once


def test_a_caller_offered_voicemail_who_leaves_none_is_a_missed_call_once_twilio_says_so():
    offered_voicemail()

    callback("status")
    assert not Event.objects.filter(kind="missed_call").exists()  # a message may still come
    callback("absent")
    callback("absent")
    callback("status")

    missed_calls = Event.objects.filter(kind="missed_call")
    assert missed_calls.count() == 1
    call = Event.objects.get(kind="call")
    assert call.data["missed"] is True and "voicemail" not in call.data
    assert missed.AWAITING not in call.data


def test_absent_before_the_status_is_a_missed_call_at_once():
    offered_voicemail()

    callback("absent")
    callback("status")

    assert Event.objects.filter(kind="missed_call").count() == 1


def test_with_no_word_from_twilio_the_grace_period_decides_missed_dated_when_the_call_ended():
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        offered_voicemail()
        callback("status")
    call = Event.objects.get(kind="call")

    with time_machine.travel(start + missed.VOICEMAIL_GRACE + timedelta(seconds=1), tick=False):
        first = missed.settle(call.pk, grace_over=True)
        again = missed.settle(call.pk, grace_over=True)  # a task delivered twice

    assert first is not None and again is None
    assert first.occurred_at == start
    assert Event.objects.filter(kind="missed_call").count() == 1


def test_a_recording_that_comes_before_the_grace_task_wins():
    offered_voicemail()
    callback("status")
    callback("action")

    assert missed.settle(Event.objects.get(kind="call").pk, grace_over=True) is None
    assert not Event.objects.filter(kind="missed_call").exists()


def test_two_voicemails_in_a_row_never_make_the_case_hot_nor_offer_a_call_back(settings):
    settings.VOICE_HOT_MISSED_CALLS = 2
    for n in (1, 2):
        sid = f"CA{n:032x}"
        post_signed(
            "/hooks/twilio/voice/", payload("voice", "inbound_call", CallSid=sid, From=CALLER)
        )
        post_signed("/hooks/twilio/voice/gather/", payload("voice", "gather_speech", CallSid=sid))
        post_signed(
            "/hooks/twilio/voice/status/", payload("voice", "status_completed", CallSid=sid)
        )
        post_signed(
            "/hooks/twilio/voice/recording/", payload("voice", "recording_action", CallSid=sid)
        )

    assert not Event.objects.filter(kind__in=["missed_call", "routing"]).exists()
    assert Case.objects.get().priority == Case.Priority.NORMAL
    assert not Outbox.objects.exists()
