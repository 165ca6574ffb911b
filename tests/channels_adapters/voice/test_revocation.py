"""A stop on the phone: the keypad's opt-out digit, or words, at the IVR (docs/twilio.md)."""

import pytest

from channels_adapters.voice import twiml as prompts
from conversations import consent_review
from conversations.models import Identity
from privacy.models import ConsentRecord

from .conftest import CALLER, said, the_call, twiml, verbs

pytestmark = pytest.mark.django_db


def caller() -> Identity:
    return Identity.objects.get(kind="phone", value=CALLER)


def test_every_caller_hears_how_to_stop():
    assert f"press {prompts.OPT_OUT_DIGIT}" in prompts.PROMPT


def test_pressing_the_opt_out_digit_opts_the_caller_out_and_says_so(voice):
    voice.call()

    root = twiml(voice.gather(Digits=prompts.OPT_OUT_DIGIT))

    assert verbs(root) == ["Say", "Hangup"] and "no more calls or texts" in said(root)
    assert caller().opted_out_at is not None and caller().consent_source == "voice:keypad 9"
    assert the_call().data["opted_out"] is True
    record = ConsentRecord.objects.get()
    assert (record.action, record.channel) == ("revoked", "")  # every channel


def test_saying_stop_calling_me_opts_the_caller_out(voice):
    voice.call()

    twiml(voice.gather(SpeechResult="Please stop calling me.", Confidence="0.8"))

    assert caller().consent_source == "voice:speech"
    assert ConsentRecord.objects.get().words == "Please stop calling me."


def test_words_that_may_be_a_stop_are_flagged_and_the_call_goes_on(voice):
    voice.call()

    root = twiml(voice.gather(SpeechResult="I'm not interested in the offer", Confidence="0.8"))

    assert "Record" in verbs(root)  # routed as usual (voicemail: nobody on duty)
    assert caller().opted_out_at is None
    (flag,) = consent_review.pending_flags(the_call().conversation)
    assert flag.data["words"] == "not interested"
