"""The sweeps: due call backs land in an agent's inbox; waiting cases find an agent;
unanswered messages past the team's target make the case hot."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from conversations import journal
from conversations.models import Case, Event
from routing import callbacks, sweeps
from routing.assignment import assign
from routing.models import CaseAssignment, ScheduledCallBack
from tests.routing.conftest import ALICE_PHONE, profile

pytestmark = pytest.mark.django_db
UTC = ZoneInfo("UTC")
SLOT = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def routing_events(customer, action):
    return list(
        Event.objects.filter(
            conversation__customer=customer, kind="routing", data__action=action
        ).order_by("seq")
    )


def booked(customer) -> ScheduledCallBack:
    with time_machine.travel(SLOT - timedelta(days=1), tick=False):
        return callbacks.schedule_call_back(
            customer=customer, slot=SLOT, time_zone="UTC", by_customer=True
        )


def test_an_agent_booking_is_recorded_on_the_open_case(customer, agent):
    case = open_case(customer)
    with time_machine.travel(SLOT - timedelta(days=1), tick=False):
        call_back = callbacks.schedule_call_back(customer=customer, slot=SLOT, time_zone="UTC")

    assert call_back.case == case
    [booked_event] = routing_events(customer, "call_back_booked")
    assert booked_event.body == "Call back booked for Tue 24 Nov at 15:00 (UTC)"
    assert not Event.objects.filter(kind="message", data__call_back=call_back.pk).exists()


def test_a_past_slot_is_refused(customer):
    with pytest.raises(callbacks.SlotUnavailable):
        callbacks.schedule_call_back(
            customer=customer, slot=timezone.now() - timedelta(minutes=1), time_zone="UTC"
        )


def test_a_call_back_is_not_raised_before_its_time(customer, agent):
    call_back = booked(customer)

    assert callbacks.raise_due_call_backs(now=SLOT - timedelta(seconds=1)) == 0
    call_back.refresh_from_db()
    assert call_back.status == "scheduled"


def test_a_due_call_back_lands_in_the_agents_inbox_raised(customer, agent):
    profile(agent, phone=ALICE_PHONE)
    call_back = booked(customer)

    assert callbacks.raise_due_call_backs(now=SLOT + timedelta(seconds=30)) == 1

    call_back.refresh_from_db()
    assert (call_back.status, call_back.agent, call_back.next_action_at) == ("due", agent, None)
    case = Case.objects.get(pk=call_back.case_id)
    assert case.assignee == agent and case.priority == Case.Priority.HOT
    [due] = routing_events(customer, "call_back_due")
    assert due.body == "Scheduled call back due (Tue 15:00): alice calls the customer"
    assert due.data["agent"] == agent.pk and due.data["case"] == case.pk
    [hot] = routing_events(customer, "hot")
    assert hot.data["reason"] == "scheduled call back due"
    # a second run finds nothing more
    assert callbacks.raise_due_call_backs(now=SLOT + timedelta(minutes=1)) == 0


def test_the_agent_already_on_the_case_takes_the_call_back(customer, agent, teammate):
    profile(agent, phone=ALICE_PHONE)
    call_back = booked(customer)
    case = Case.objects.get(pk=call_back.case_id)
    Case.objects.filter(pk=case.pk).update(assignee=teammate)
    profile(teammate, phone="+14155550199")

    callbacks.raise_due_call_backs(now=SLOT)

    call_back.refresh_from_db()
    assert call_back.agent == teammate


def test_a_due_call_back_with_nobody_free_still_raises_the_case(customer):
    call_back = booked(customer)

    callbacks.raise_due_call_backs(now=SLOT)

    call_back.refresh_from_db()
    assert call_back.status == "due" and call_back.agent is None
    assert Case.objects.get(pk=call_back.case_id).priority == Case.Priority.HOT
    [due] = routing_events(customer, "call_back_due")
    assert due.body.endswith("no agent available yet")


def open_case(customer, body="Hi") -> Case:
    event = journal.record(
        customer=customer, channel="sms", kind="message", direction="in", body=body
    )
    return Case.objects.get(pk=event.case_id)


def test_an_unassigned_case_gets_an_agent_when_one_is_free(customer, agent):
    case = open_case(customer)
    profile(agent)

    assert sweeps.reassign_waiting() == 1

    case.refresh_from_db()
    assert case.assignee == agent


def test_a_case_whose_agent_went_away_goes_to_another(customer, agent, teammate):
    alice = profile(agent)
    case = open_case(customer)
    assign(case, reason="test")
    profile(teammate)
    alice.available = False
    alice.save()

    assert sweeps.reassign_waiting() == 1

    case.refresh_from_db()
    assert case.assignee == teammate
    assert routing_events(customer, "assign")[-1].data["reason"] == "alice went away"


def test_a_case_waiting_too_long_for_its_agent_goes_to_another_once(customer, agent, teammate):
    profile(agent)
    profile(teammate)
    case = open_case(customer)
    assign(case, reason="test")
    CaseAssignment.objects.filter(case=case).update(
        assigned_at=timezone.now() - timedelta(minutes=31)
    )

    assert sweeps.reassign_waiting() == 1
    case.refresh_from_db()
    assert case.assignee == teammate
    assert routing_events(customer, "assign")[-1].data["reason"] == (
        "no answer from alice within 30 minutes"
    )
    # the new agent gets the full 30 minutes
    assert sweeps.reassign_waiting() == 0


def test_a_case_answered_in_time_stays(customer, agent, teammate):
    profile(agent)
    profile(teammate)
    case = open_case(customer)
    assign(case, reason="test")
    Case.objects.filter(pk=case.pk).update(first_response_at=timezone.now())
    CaseAssignment.objects.filter(case=case).update(assigned_at=timezone.now() - timedelta(hours=2))

    assert sweeps.reassign_waiting() == 0


def test_an_unanswered_message_older_than_the_team_target_makes_the_case_hot(customer, support):
    support.response_target = timedelta(minutes=10)
    support.save()
    case = open_case(customer, "Hello?")
    Case.objects.filter(pk=case.pk).update(team=support)
    received = case.conversation.last_inbound_at

    assert sweeps.flag_unanswered(now=received + timedelta(minutes=9)) == 0
    assert sweeps.flag_unanswered(now=received + timedelta(minutes=11)) == 1

    case.refresh_from_db()
    assert case.priority == Case.Priority.HOT
    [hot] = routing_events(customer, "hot")
    assert hot.data["reason"] == "frustration: unanswered for 11 minutes (target 10)"
    assert sweeps.flag_unanswered(now=received + timedelta(minutes=12)) == 0


def test_an_answered_message_is_not_flagged(customer, agent):
    case = open_case(customer, "Hello?")
    journal.record(customer=customer, channel="sms", kind="message", direction="out", author=agent)

    assert sweeps.flag_unanswered(now=timezone.now() + timedelta(hours=1)) == 0
    case.refresh_from_db()
    assert case.priority == Case.Priority.NORMAL
