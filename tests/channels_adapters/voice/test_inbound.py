"""The inbound call webhook: who is calling, what they hear, where the call goes."""

from datetime import UTC, datetime

import pytest
import time_machine

from conversations.models import AgentProfile, Case, Event, Identity
from instore.models import Scan
from tests.channels_adapters.voice.conftest import (
    AGENT_PHONE,
    CALLER,
    SHOP_NUMBER,
    TwilioVoice,
    call_sid,
    said,
    the_call,
    twiml,
    verbs,
)
from tests.commerce.helpers import T900, cart
from tests.factories import CustomerFactory
from tests.instore.factories import PlacementFactory, StoreFactory

pytestmark = pytest.mark.django_db

TREADMILL = {**T900, "name": "T900 treadmill"}


def known_caller(name="Dana Scully"):
    customer = CustomerFactory(display_name=name)
    Identity.objects.create(customer=customer, kind="phone", value=CALLER)
    return customer


def test_a_call_from_a_new_number_is_recorded_and_greeted_with_a_gather(voice):
    root = twiml(voice.call(call_sid(1)))

    assert verbs(root) == ["Say", "Gather", "Redirect"]
    assert said(root).startswith("Hi, thanks for calling.")
    gather = root.find("Gather")
    assert gather.get("input") == "speech dtmf"
    assert gather.get("action") == "https://shop.example.com/hooks/twilio/voice/gather/"
    event = the_call()
    assert (event.channel, event.direction, event.kind) == ("voice", "in", "call")
    assert event.data["from"] == CALLER and event.data["to"] == SHOP_NUMBER
    assert event.conversation == Identity.objects.get(value=CALLER).customer.conversation
    assert Case.objects.get().conversation == event.conversation  # a call is a need


def test_a_caller_with_a_cart_hears_their_name_and_the_product(voice):
    customer = known_caller()
    cart(customer, "c-1", [TREADMILL])

    root = twiml(voice.call())

    assert said(root).startswith("Hi Dana — are you calling about the T900 treadmill in your cart?")


def test_a_caller_in_the_store_hears_about_what_they_scanned(voice):
    customer = known_caller()
    placement = PlacementFactory(store=StoreFactory(business_hours={}))  # no hours: open
    Identity.objects.create(customer=customer, kind="visitor", value="v-123")
    Scan.objects.create(
        placement=placement,
        store=placement.store,
        visitor_id="v-123",
        customer=customer,  # as record_scan keys it
        source_id="s1",
    )

    root = twiml(voice.call())

    assert "Hi Dana — are you calling about the T900 Folding Treadmill at Downtown?" in said(root)


def test_a_caller_with_an_open_case_is_asked_about_it(voice):
    voice.call(call_sid(1))  # opens a case

    root = twiml(voice.call(call_sid(2)))

    assert "are you calling about your open request with us?" in said(root)


def test_a_repeated_call_sid_writes_one_event(voice):
    first = voice.call(call_sid(1))

    repeat = voice.call(call_sid(1))

    assert repeat.status_code == 200
    assert repeat.content == first.content
    assert Event.objects.filter(source_id=call_sid(1)).count() == 1


def test_a_forged_signature_is_refused_and_writes_nothing(voice):
    response = voice.post(
        "/hooks/twilio/voice/",
        {"CallSid": call_sid(1), "From": CALLER, "To": SHOP_NUMBER},
        token="not-the-auth-token",
    )
    unsigned = voice.post(
        "/hooks/twilio/voice/",
        {"CallSid": call_sid(1), "From": CALLER, "To": SHOP_NUMBER},
        signed=False,
    )

    assert response.status_code == 403 and unsigned.status_code == 403
    assert not Event.objects.exists() and not Identity.objects.exists()


@pytest.mark.parametrize(
    "path, form",
    [
        ("/hooks/twilio/voice/", {"CallSid": "nope", "From": CALLER, "To": SHOP_NUMBER}),
        ("/hooks/twilio/voice/", {"CallSid": call_sid(1), "To": SHOP_NUMBER}),
        ("/hooks/twilio/voice/gather/", {"CallSid": call_sid(1), "Digits": "1; drop"}),
        ("/hooks/twilio/voice/status/", {"CallSid": call_sid(1), "CallStatus": ""}),
        (
            "/hooks/twilio/voice/status/",
            {"CallSid": call_sid(1), "CallStatus": "complet ed"},  # not a status word
        ),
        ("/hooks/twilio/voice/status/", {"CallSid": call_sid(1), "DialCallStatus": "bogus"}),
        ("/hooks/twilio/voice/recording/", {"CallSid": call_sid(1), "RecordingUrl": "http://evil"}),
        ("/hooks/twilio/voice/recording/", {"CallSid": call_sid(1), "RecordingSid": "RE1"}),
        ("/hooks/twilio/voice/bridge/?call=1", {"CallSid": "CA1"}),
    ],
)
def test_bad_input_gets_a_4xx_never_a_500(voice, path, form):
    response = voice.post(path, form)

    assert 400 <= response.status_code < 500
    assert not Event.objects.exists()


def test_an_anonymous_caller_is_offered_voicemail_and_nothing_is_recorded(voice):
    root = twiml(voice.call(caller="anonymous"))

    assert "Record" in verbs(root)
    assert not Event.objects.exists()


def test_the_gather_rings_the_agent_of_the_open_case_first(voice, agent, teammate):
    AgentProfile.objects.create(user=teammate, phone="+14155550188", available=True)
    AgentProfile.objects.create(user=agent, phone=AGENT_PHONE, available=True)
    voice.call()
    Case.objects.update(assignee=agent)

    root = twiml(voice.gather(SpeechResult="my treadmill is broken", Confidence="0.9"))

    assert verbs(root) == ["Say", "Dial"]
    dial = root.find("Dial")
    assert dial.find("Number").text == AGENT_PHONE
    assert dial.get("action") == "https://shop.example.com/hooks/twilio/voice/status/"
    assert int(dial.get("timeout")) == 20
    data = the_call().data
    assert data["routed_to"] == agent.pk and data["said"] == "my treadmill is broken"


def test_without_an_assignee_any_available_agent_is_rung(voice, agent, teammate):
    AgentProfile.objects.create(user=agent, phone=AGENT_PHONE, available=False)
    AgentProfile.objects.create(user=teammate, phone="+14155550188", available=True)
    voice.call()

    root = twiml(voice.gather(Digits="1"))

    assert root.find("Dial/Number").text == "+14155550188"


def test_with_nobody_available_the_caller_gets_voicemail_with_transcription(voice, agent):
    AgentProfile.objects.create(user=agent, phone=AGENT_PHONE, available=False)
    voice.call()

    root = twiml(voice.gather())

    assert verbs(root) == ["Say", "Record", "Say", "Hangup"]
    record = root.find("Record")
    assert record.get("transcribe") == "true"
    assert (
        record.get("transcribeCallback") == "https://shop.example.com/hooks/twilio/voice/recording/"
    )
    assert record.get("action") == "https://shop.example.com/hooks/twilio/voice/recording/"


def test_an_unanswered_dial_falls_back_to_voicemail_and_an_answered_one_ends(voice, on_duty):
    voice.call(call_sid(1))
    voice.call(call_sid(2), caller="+14155550124")

    missed = twiml(voice.dial_outcome(call_sid(1), "no-answer"))
    answered = twiml(voice.dial_outcome(call_sid(2), "completed", DialCallDuration="95"))

    assert "Record" in verbs(missed)
    assert verbs(answered) == ["Say", "Hangup"]
    assert the_call(call_sid(2)).data["answered"] is True
    assert the_call(call_sid(2)).data["talk_seconds"] == 95


# Downtown (the factory's store on SHOP_NUMBER) is open Mondays 9-18, New York time.
@time_machine.travel(datetime(2026, 11, 29, 15, 0, tzinfo=UTC), tick=False)  # a Sunday
def test_after_hours_the_caller_hears_the_hours_and_a_call_back_promise(voice, on_duty):
    StoreFactory()

    root = twiml(voice.call())

    assert verbs(root) == ["Say", "Record", "Say", "Hangup"]
    assert "Our hours are Monday, 9am to 6pm." in said(root)
    assert "we will call you back" in said(root)
    assert the_call().data["after_hours"] is True


@time_machine.travel(datetime(2026, 11, 30, 15, 0, tzinfo=UTC), tick=False)  # Monday 10am NY
def test_in_business_hours_the_caller_is_greeted(voice):
    StoreFactory()

    assert verbs(twiml(voice.call())) == ["Say", "Gather", "Redirect"]


def test_a_number_without_hours_is_always_open(voice):
    StoreFactory(business_hours={})

    assert verbs(twiml(TwilioVoice().call())) == ["Say", "Gather", "Redirect"]
