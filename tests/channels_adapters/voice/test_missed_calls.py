"""Missed calls: an event, a frustration signal, and two within 30 minutes make the case hot."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from conversations.context import build_context
from conversations.models import Case, Conversation, Event, Identity, Outbox
from tests.channels_adapters.voice.conftest import CALLER, call_sid, the_call

pytestmark = pytest.mark.django_db

OTHER_PHONE = "+14155550124"


def hang_up_unanswered(voice, n, caller=CALLER):
    voice.call(call_sid(n), caller=caller)
    voice.status(call_sid(n), "completed", CallDuration="12")


def test_a_caller_who_hangs_up_before_anyone_answers_is_a_missed_call(voice):
    hang_up_unanswered(voice, 1)

    missed = Event.objects.get(kind="missed_call")
    assert (missed.channel, missed.direction) == ("voice", "in")
    assert missed.data["call"] == the_call(call_sid(1)).pk
    assert the_call(call_sid(1)).data["missed"] is True
    customer = Identity.objects.get(value=CALLER).customer
    assert build_context(customer).extra["frustration"]["missed_calls"] == 1
    assert Case.objects.get().priority == Case.Priority.NORMAL  # one is not yet a pattern


def test_an_answered_call_or_a_voicemail_is_not_missed(voice, on_duty):
    voice.call(call_sid(1))
    voice.dial_outcome(call_sid(1), "completed")
    voice.status(call_sid(1), "completed")
    voice.call(call_sid(2))
    voice.recording(call_sid(2), RecordingUrl="https://api.twilio.com/r/1", RecordingDuration="8")
    voice.status(call_sid(2), "completed")

    assert not Event.objects.filter(kind="missed_call").exists()
    assert build_context(Identity.objects.get().customer).extra["frustration"] is None


def test_two_missed_calls_within_30_minutes_on_two_numbers_make_the_case_hot(voice):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        hang_up_unanswered(voice, 1)
    # the same customer, calling from their other number
    Identity.objects.create(
        customer=Identity.objects.get(value=CALLER).customer, kind="phone", value=OTHER_PHONE
    )
    with time_machine.travel(start + timedelta(minutes=29), tick=False):
        hang_up_unanswered(voice, 2, caller=OTHER_PHONE)
        hang_up_unanswered(voice, 3)  # a third: already hot, no second offer

    case = Case.objects.get()
    assert case.priority == Case.Priority.HOT
    assert Conversation.objects.get().priority == Case.Priority.HOT
    routing = Event.objects.get(kind="routing")
    assert routing.direction == "internal" and routing.data["action"] == "hot"
    offer = Outbox.objects.get()  # the call-back offer, through the outbox and its rules
    assert offer.channel == "sms" and offer.to_address == OTHER_PHONE
    assert offer.event.data["proposal"] == "call_back_offer"


def test_two_missed_calls_31_minutes_apart_are_not_hot(voice):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        hang_up_unanswered(voice, 1)
    with time_machine.travel(start + timedelta(minutes=31), tick=False):
        hang_up_unanswered(voice, 2)

    assert Case.objects.get().priority == Case.Priority.NORMAL
    assert not Outbox.objects.exists()


def test_an_offer_to_a_number_that_said_stop_is_recorded_not_sent(voice):
    hang_up_unanswered(voice, 1)
    Identity.objects.filter(value=CALLER).update(opted_out_at=timezone.now())

    hang_up_unanswered(voice, 2)

    assert Case.objects.get().priority == Case.Priority.HOT
    assert not Outbox.objects.exists()
    refused = Event.objects.get(kind="nudge")
    assert refused.data["sent"] is False and "opted out" in refused.data["reason"]


def test_a_repeated_final_callback_records_one_missed_call(voice):
    hang_up_unanswered(voice, 1)
    voice.status(call_sid(1), "completed", CallDuration="12")

    assert Event.objects.filter(kind="missed_call").count() == 1
