"""In the moment: a frustrated customer who opens the widget gets the call-back offer once
per cooldown, and "Call me now" rings an agent's phone first."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from channels_adapters.voice.backends import LocmemBackend
from conversations import journal
from conversations.identities import link_identity
from conversations.models import Case, Event
from engagement.models import Nudge
from routing import moments, rules
from routing.models import ActionTaken, ContextualAction
from tests.routing.conftest import ALICE_PHONE, profile

pytestmark = pytest.mark.django_db
OFFER = "Sorry we missed you — talk to a treadmill specialist now?"


@pytest.fixture
def offer_rule(sales):
    return ContextualAction.objects.create(
        name="Missed calls, back online",
        condition={"frustration.missed_calls": {"gte": 2}},
        message=OFFER,
        team=sales,
        skill="treadmills",
    )


@pytest.fixture
def placed_calls():
    LocmemBackend.calls.clear()
    yield LocmemBackend.calls
    LocmemBackend.calls.clear()


def frustrated(customer, missed=2):
    link_identity(customer, "visitor", "v-frustrated")
    journal.record(customer=customer, channel="voice", kind="call", direction="in", body="Call")
    for _ in range(missed):
        journal.record(customer=customer, channel="voice", kind="missed_call", direction="in")
    return customer


def test_a_frustrated_customer_on_the_website_gets_the_offer_once(customer, offer_rule):
    frustrated(customer)

    event = moments.on_presence(customer)

    assert (event.kind, event.channel, event.direction, event.body) == (
        "offer",
        "web",
        "out",
        OFFER,
    )
    taken = ActionTaken.objects.get()
    assert event.data["offer"] == taken.pk and taken.event == event
    assert event.data["reason"] == "2 missed calls, on the website now"
    # through the engagement arbiter, on the web, as an answer to her own calls
    nudge = Nudge.objects.get(data__offer=taken.pk)
    assert (nudge.status, nudge.channels) == ("sent", ["web"])
    call_now, schedule = event.data["actions"]
    assert call_now == {"id": "call_now", "label": "Call me now"}
    assert schedule["id"] == "schedule" and schedule["url"].endswith("/callback/")
    # within the cooldown: nothing more
    assert moments.on_presence(customer) is None
    ContextualAction.objects.update(cooldown=timedelta(hours=1))
    rules.forget()
    # past the cooldown, the arbiter still sends one call-back offer a day (any channel)
    with time_machine.travel(timezone.now() + timedelta(minutes=61)):
        assert moments.on_presence(customer) is None
    assert Nudge.objects.filter(reason__startswith="duplicate: the call back offer").exists()
    # a pop-up only: the arbiter sent no chat message besides the offer
    assert not Event.objects.filter(kind="message", direction="out").exists()


def test_after_the_missed_call_sms_the_website_shows_no_second_offer(customer, offer_rule):
    from engagement.rules.missed_call import offer_call_back

    frustrated(customer)
    missed = Event.objects.filter(kind="missed_call").last()
    assert offer_call_back(missed).status == "sent"  # by SMS

    assert moments.on_presence(customer) is None

    assert not Event.objects.filter(kind="offer").exists()
    refused = Event.objects.get(kind="routing", data__action="contextual")
    assert "duplicate: the call back offer was sent by SMS" in refused.body


def test_an_offer_the_arbiter_refuses_is_recorded_not_shown(customer, offer_rule):
    frustrated(customer)
    customer.identities.filter(kind="visitor").delete()  # the web needs a widget visitor

    assert moments.on_presence(customer) is None

    assert not Event.objects.filter(kind="offer").exists()
    refused = Event.objects.get(kind="routing", data__action="contextual")
    assert refused.body.startswith('Contextual action "Missed calls, back online" not offered:')
    assert "no widget visitor" in refused.body


def test_no_offer_without_frustration(customer, offer_rule):
    frustrated(customer, missed=1)

    assert moments.on_presence(customer) is None
    assert not ActionTaken.objects.exists()


def test_no_offer_without_an_active_rule(customer, offer_rule):
    frustrated(customer)
    ContextualAction.objects.update(active=False)
    rules.forget()

    assert moments.on_presence(customer) is None


def test_call_me_now_rings_the_skilled_agent_first(
    customer, offer_rule, sales, agent, teammate, placed_calls
):
    profile(agent, teams=[sales], phone=ALICE_PHONE, skills=["treadmills"])
    profile(teammate, teams=[sales], phone="+14155550199", skills=["bikes"])
    offer = moments.on_presence(frustrated(customer))

    result = moments.answer_offer(
        conversation_id=customer.conversation.pk, offer=offer.data["offer"], choice="call_now"
    )

    assert result == {
        "ok": True,
        "message": "We are calling you now: your phone will ring in a moment.",
    }
    [call] = placed_calls
    assert call.to == ALICE_PHONE  # the agent's phone rings first
    case = Case.objects.get(conversation__customer=customer)
    assert case.assignee == agent
    outbound = Event.objects.get(conversation__customer=customer, kind="call", direction="out")
    assert outbound.author == agent
    answer = Event.objects.filter(kind="routing", data__action="offer_answer").get()
    assert answer.body.endswith("chose a call now: alice's phone rings first")
    # a second click rings nobody else
    again = moments.answer_offer(
        conversation_id=customer.conversation.pk, offer=offer.data["offer"], choice="call_now"
    )
    assert again["message"] == "We are already calling you." and len(placed_calls) == 1


def test_call_me_now_with_nobody_free_says_so(customer, offer_rule, placed_calls):
    offer = moments.on_presence(frustrated(customer))

    result = moments.answer_offer(
        conversation_id=customer.conversation.pk, offer=offer.data["offer"], choice="call_now"
    )

    assert result["ok"] is False and "schedule a call back" in result["message"]
    assert placed_calls == []


def test_an_offer_of_another_customer_is_refused(customer, offer_rule, placed_calls):
    from tests.factories import CustomerFactory

    offer = moments.on_presence(frustrated(customer))
    stranger = CustomerFactory()

    result = moments.answer_offer(
        conversation_id=stranger.conversation.pk, offer=offer.data["offer"], choice="call_now"
    )

    assert result == {"ok": False, "message": "This offer is no longer available."}


def test_scheduling_is_recorded(customer, offer_rule):
    offer = moments.on_presence(frustrated(customer))

    result = moments.answer_offer(
        conversation_id=customer.conversation.pk, offer=offer.data["offer"], choice="schedule"
    )

    assert result["ok"] is True
    assert ActionTaken.objects.get().answer == "schedule"
