"""Voice tells engagement of missed calls through the hook engagement declares: voice
imports no engagement, and with the hook switched off the case still goes hot, unoffered."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from conversations.models import Case, Outbox
from engagement.models import Nudge
from tests.channels_adapters.voice.conftest import TwilioVoice, call_sid
from tests.fakes.twilio_server import ACCOUNT_SID, AUTH_TOKEN

pytestmark = pytest.mark.django_db


@pytest.fixture
def voice(settings):
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.PUBLIC_BASE_URL = "https://shop.example.com"
    return TwilioVoice()


def two_missed_calls(voice):
    start = timezone.now()
    for n, minutes in ((1, 0), (2, 10)):
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            voice.call(call_sid(n))
            voice.status(call_sid(n), "completed", CallDuration="12")


def test_the_declared_hook_makes_the_call_back_offer(voice):
    two_missed_calls(voice)

    assert Case.objects.get().priority == Case.Priority.HOT
    assert Nudge.objects.get().rule == "missed_call"
    assert Outbox.objects.get().event.data["proposal"] == "call_back_offer"


def test_with_no_hook_the_case_is_hot_and_nothing_is_offered(voice, settings):
    settings.VOICE_MISSED_CALL_HOOKS = []

    two_missed_calls(voice)

    assert Case.objects.get().priority == Case.Priority.HOT
    assert not Nudge.objects.exists() and not Outbox.objects.exists()


def test_a_case_hot_for_another_reason_still_gets_the_call_back_offer(voice):
    from conversations import journal
    from conversations.cases import mark_hot
    from conversations.identities import resolve_customer
    from tests.channels_adapters.voice.conftest import CALLER

    customer = resolve_customer("phone", CALLER)
    journal.record(customer=customer, channel="sms", kind="message", direction="in", body="refund!")
    mark_hot(Case.objects.get(), reason='rule "Escalation": the message says "refund"')

    two_missed_calls(voice)

    [offer] = Outbox.objects.all()
    assert offer.event.data["proposal"] == "call_back_offer"


def test_a_third_missed_call_offers_nothing_more(voice):
    two_missed_calls(voice)
    with time_machine.travel(timezone.now() + timedelta(minutes=15), tick=False):
        voice.call(call_sid(3))
        voice.status(call_sid(3), "completed", CallDuration="9")

    assert Outbox.objects.count() == 1
    duplicate = Nudge.objects.exclude(status="sent").get()
    assert duplicate.reason.startswith("duplicate: the call back offer was sent by SMS")
