"""Click-to-call: the agent's phone rings first, then the customer is bridged."""

import xml.etree.ElementTree as ET

import pytest
from django.test import Client

from channels_adapters.voice.outbound import call_back
from conversations.models import Event, Identity
from conversations.outbox import Refused
from tests.channels_adapters.voice.conftest import AGENT_PHONE, CALLER, SHOP_NUMBER, twiml, verbs
from tests.factories import CustomerFactory
from tests.fakes.twilio_server import ACCOUNT_SID

pytestmark = pytest.mark.django_db


def phone_customer():
    customer = CustomerFactory(display_name="Dana Scully")
    Identity.objects.create(customer=customer, kind="phone", value=CALLER)
    return customer


def test_a_call_back_rings_the_agent_through_the_real_twilio_client(fake_twilio, agent, on_duty):
    event = call_back(customer=phone_customer(), agent=agent)

    [request] = fake_twilio.calls
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json"
    assert request.value("To") == AGENT_PHONE and request.value("From") == SHOP_NUMBER
    assert request.value("Url") == (
        f"https://shop.example.com/hooks/twilio/voice/bridge/?call={event.pk}"
    )
    assert request.value("StatusCallback").endswith(f"/hooks/twilio/voice/status/?call={event.pk}")
    assert request.form["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]
    event.refresh_from_db()
    assert (event.kind, event.direction, event.author) == ("call", "out", agent)
    assert event.source_id.startswith("CA") and event.data["to"] == CALLER


def test_when_the_agent_answers_the_customer_is_dialled(voice, agent, on_duty, placed_calls):
    event = call_back(customer=phone_customer(), agent=agent)

    root = twiml(
        voice.post(f"/hooks/twilio/voice/bridge/?call={event.pk}", {"CallSid": event.source_id})
    )

    assert verbs(root) == ["Say", "Dial"]
    assert root.find("Say").text == "Connecting you to Dana Scully."
    assert root.find("Dial/Number").text == CALLER
    assert root.find("Dial").get("callerId") == SHOP_NUMBER


def test_status_callbacks_find_the_call_before_its_sid_is_stored(
    voice, agent, on_duty, placed_calls
):
    event = call_back(customer=phone_customer(), agent=agent)
    sid = event.source_id
    Event.objects.filter(pk=event.pk).update(source_id=None)  # as if Twilio was faster than us

    voice.status(sid, "ringing", query=f"?call={event.pk}", SequenceNumber="1")
    voice.status(sid, "completed", query=f"?call={event.pk}", SequenceNumber="3", CallDuration="61")

    event.refresh_from_db()
    assert event.data["status"] == "completed" and event.data["duration"] == 61
    assert not Event.objects.filter(kind="missed_call").exists()  # ours, not a missed call


def test_a_forged_or_stale_bridge_hangs_up(voice, agent, on_duty, placed_calls):
    event = call_back(customer=phone_customer(), agent=agent)

    root = twiml(
        voice.post(f"/hooks/twilio/voice/bridge/?call={event.pk}", {"CallSid": "CA" + "f" * 32})
    )

    assert verbs(root) == ["Say", "Hangup"]


def test_without_a_phone_in_the_agent_profile_nothing_is_called(agent, placed_calls):
    with pytest.raises(Refused, match="agent profile"):
        call_back(customer=phone_customer(), agent=agent)

    assert placed_calls == [] and not Event.objects.filter(kind="call").exists()


def test_a_refused_call_is_marked_failed(fake_twilio, agent, on_duty):
    fake_twilio.fail_next(status=400, code=21215)

    with pytest.raises(Refused, match="21215"):
        call_back(customer=phone_customer(), agent=agent)

    assert Event.objects.get(kind="call").data["status"] == "failed"


def test_the_call_back_button_on_the_conversation_page(agent, on_duty, placed_calls):
    customer = phone_customer()
    client = Client()
    client.force_login(agent)
    page = f"/admin/conversations/conversation/{customer.conversation.pk}/change/"

    assert "Call back" in client.get(page).content.decode()
    response = client.post(page.replace("/change/", "/call-back/"), follow=True)

    assert response.status_code == 200
    assert [call.to for call in placed_calls] == [AGENT_PHONE]
    assert Event.objects.filter(kind="call", direction="out").count() == 1
    assert "Calling you now" in response.content.decode()


def test_a_get_or_an_outsider_cannot_start_a_call(agent, outsider, on_duty, placed_calls):
    customer = phone_customer()
    url = f"/admin/conversations/conversation/{customer.conversation.pk}/call-back/"
    client = Client()
    client.force_login(agent)
    assert client.get(url).status_code == 405
    client.force_login(outsider)
    assert client.post(url).status_code in (302, 403)
    assert placed_calls == []


def test_twiml_is_valid_xml_for_every_voice_answer(voice):
    root = ET.fromstring(  # noqa: S314  # our own server's answer
        voice.post("/hooks/twilio/voice/bridge/?call=999", {"CallSid": "CA" + "0" * 32}).content
    )
    assert root.tag == "Response"
