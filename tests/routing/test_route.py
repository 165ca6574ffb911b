"""Routing of inbound events through the journal hook: intent, hot, paging, after hours,
assignment. Each test records real events and runs the after-commit hooks."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from commerce.models import Cart, Order
from conversations import journal
from conversations.models import Case, Event, Outbox
from engagement.models import Nudge
from routing.models import HotRule, IntentRule
from tests.instore.factories import StoreFactory
from tests.routing.conftest import ALICE_PHONE, BOB_PHONE, profile

pytestmark = pytest.mark.django_db


def inbound(customer, body="Hello", *, channel="sms", kind="message", **extra):
    return journal.record(
        customer=customer, channel=channel, kind=kind, direction="in", body=body, **extra
    )


def routing_events(customer, action=None):
    events = Event.objects.filter(conversation__customer=customer, kind="routing").order_by("seq")
    return [e for e in events if action is None or e.data.get("action") == action]


def test_a_message_gets_its_intent_team_and_an_agent(customer, support, agent, routed):
    IntentRule.objects.create(
        name="Orders", phrases=["where is my order"], intent="order support", team=support
    )
    profile(agent, teams=[support])

    with routed():
        event = inbound(customer, "Where is my order?")

    case = Case.objects.get(pk=event.case_id)
    assert (case.intent, case.team, case.assignee) == ("order support", support, agent)
    intent, assigned = routing_events(customer)
    assert intent.data["action"] == "intent" and "where is my order" in intent.body.lower()
    assert assigned.data == {
        "action": "assign",
        "assignee": agent.pk,
        "previous": None,
        "reason": "new case, intent order support",
        "case": case.pk,
    }


def test_a_cart_routes_to_product_evaluation_with_sales(customer, sales, agent, routed):
    Cart.objects.create(customer=customer, value=Decimal("1299.00"), item_count=1)
    profile(agent, teams=[sales])

    with routed():
        event = inbound(customer, "Does it fold?", channel="web")

    case = Case.objects.get(pk=event.case_id)
    assert (case.intent, case.team, case.assignee) == ("product evaluation", sales, agent)


def test_with_no_rule_the_case_gets_the_default_intent_then_a_clearer_one(
    customer, support, routed
):
    IntentRule.objects.create(name="Orders", phrases=["tracking"], intent="order", team=support)

    with routed():
        first = inbound(customer, "Hello there")
    assert Case.objects.get(pk=first.case_id).intent == "general"

    with routed():
        inbound(customer, "my tracking number?")
    assert Case.objects.get(pk=first.case_id).intent == "order"


def test_a_hot_keyword_makes_the_case_hot_and_pages_the_on_call_agents(
    customer, support, agent, teammate, routed
):
    HotRule.objects.create(name="Escalation", keywords=["refund", "lawyer"])
    IntentRule.objects.create(name="Orders", phrases=["order"], intent="order", team=support)
    profile(agent, teams=[support], phone=ALICE_PHONE, on_call=True)
    profile(teammate, teams=[support], phone=BOB_PHONE, on_call=False)

    with routed():
        event = inbound(customer, "Refund my order or I call my lawyer")

    case = Case.objects.get(pk=event.case_id)
    assert case.priority == Case.Priority.HOT
    assert case.conversation.priority == Case.Priority.HOT
    [hot] = routing_events(customer, "hot")
    assert hot.data["reason"] == 'rule "Escalation": the message says "Refund"'
    [page] = Outbox.objects.all()
    assert page.to_address == ALICE_PHONE  # on call; Bob is not
    assert page.body.startswith(f"Hot case #{case.pk} (Support): rule")
    assert "/admin/conversations/conversation/" in page.body
    [paged] = routing_events(customer, "page")
    assert paged.body == "Paged on call: alice"


def test_a_customer_who_already_is_hot_is_not_paged_twice(customer, agent, routed):
    HotRule.objects.create(name="Escalation", keywords=["refund"])
    profile(agent, phone=ALICE_PHONE, on_call=True)

    with routed():
        inbound(customer, "refund")
        inbound(customer, "refund now")

    assert Outbox.objects.count() == 1


def test_a_page_refused_by_consent_is_recorded(customer, agent, routed):
    from conversations.identities import resolve_customer

    HotRule.objects.create(name="Escalation", keywords=["refund"])
    profile(agent, phone=ALICE_PHONE, on_call=True)
    pager = resolve_customer("phone", ALICE_PHONE)
    pager.identities.update(opted_out_at=datetime(2026, 1, 1, tzinfo=ZoneInfo("UTC")))

    with routed():
        inbound(customer, "refund")

    assert Outbox.objects.count() == 0
    [refused] = routing_events(customer, "page")
    assert refused.data["sent"] is False and "opted out" in refused.body


def test_two_missed_calls_make_the_case_hot(customer, routed):
    with routed():
        call = inbound(customer, "Call", channel="voice", kind="call")
        inbound(customer, "Missed call", channel="voice", kind="missed_call")
    assert Case.objects.get(pk=call.case_id).priority == Case.Priority.NORMAL

    with routed():
        inbound(customer, "Missed call", channel="voice", kind="missed_call")

    assert Case.objects.get(pk=call.case_id).priority == Case.Priority.HOT
    [hot] = routing_events(customer, "hot")
    assert hot.data["reason"] == "frustration: 2 missed calls within 4 hours"


def test_repeated_contacts_across_channels_make_the_case_hot(customer, routed):
    with routed():
        inbound(customer, "hello?", channel="web")
        first = inbound(customer, "anyone there?", channel="web")
    assert Case.objects.get(pk=first.case_id).priority == Case.Priority.NORMAL

    with routed():
        inbound(customer, "I wrote on your site", channel="sms")

    [hot] = routing_events(customer, "hot")
    assert hot.data["reason"] == "frustration: 3 contacts on 2 channels within 4 hours"


def test_a_big_cart_makes_the_case_hot(customer, routed):
    HotRule.objects.create(name="Big cart", min_cart_value=Decimal("1000"))
    Cart.objects.create(customer=customer, value=Decimal("1299.00"), item_count=1)

    with routed():
        inbound(customer, "Question about delivery", channel="web")

    [hot] = routing_events(customer, "hot")
    assert "an open cart worth 1299.00" in hot.data["reason"]


def test_a_big_cart_makes_the_case_hot_when_the_text_decides_the_intent_too(
    customer, sales, support, agent, routed
):
    IntentRule.objects.create(name="Orders", phrases=["delivery"], intent="order", team=support)
    HotRule.objects.create(name="Big cart", min_cart_value=Decimal("1000"))
    Cart.objects.create(customer=customer, value=Decimal("1299.00"), item_count=1)
    profile(agent, teams=[support])

    with routed():
        event = inbound(customer, "Question about delivery", channel="web")

    case = Case.objects.get(pk=event.case_id)
    assert (case.intent, case.priority, case.assignee) == ("order", Case.Priority.HOT, agent)
    assert [e.data["action"] for e in routing_events(customer)] == ["intent", "hot", "assign"]


def test_a_recent_order_routes_to_order_support(customer, support, agent, routed):
    Order.objects.create(
        external_id="1001", customer=customer, currency="USD", total=Decimal("1299.00"),
        placed_at=timezone.now() - timedelta(days=3),
    )  # fmt: skip
    profile(agent, teams=[support])

    with routed():
        event = inbound(customer, "Hello, a question")

    case = Case.objects.get(pk=event.case_id)
    assert (case.intent, case.team, case.assignee) == ("order support", support, agent)
    intent, assigned = routing_events(customer)
    assert intent.data["reason"].startswith("context: order 1001 placed ")
    assert assigned.data["reason"] == "new case, intent order support"
    assert intent.seq + 1 == assigned.seq  # appended together


def test_with_no_rule_and_nothing_known_the_new_case_is_assigned_without_an_intent_line(
    customer, agent, routed
):
    profile(agent)

    with routed():
        event = inbound(customer, "Hello, a question")

    assert Case.objects.get(pk=event.case_id).intent == "general"
    assert [e.data["action"] for e in routing_events(customer)] == ["assign"]


def test_events_that_ask_nothing_are_not_routed(customer, agent, routed):
    profile(agent)

    with routed():
        journal.record(customer=customer, channel="web", kind="page_view", direction="in")
        journal.record(customer=customer, channel="system", kind="note", direction="internal")

    assert routing_events(customer) == []


def test_the_agent_on_the_case_keeps_it_and_an_agent_who_went_away_loses_it(
    customer, agent, teammate, routed
):
    alice = profile(agent)
    with routed():
        event = inbound(customer, "Hi")
    profile(teammate)  # bob arrives: alice keeps her case
    with routed():
        inbound(customer, "Still there?")
    assert Case.objects.get(pk=event.case_id).assignee == agent

    alice.available = False
    alice.save()
    with routed():
        inbound(customer, "Hello??")

    case = Case.objects.get(pk=event.case_id)
    assert case.assignee == teammate
    last = routing_events(customer, "assign")[-1]
    assert last.data["previous"] == agent.pk and last.data["reason"] == "alice is away"


def test_nobody_free_the_case_waits_and_says_so(customer, agent, routed):
    profile(agent, available=False)

    with routed():
        event = inbound(customer, "Hi")

    assert Case.objects.get(pk=event.case_id).assignee is None
    [waiting] = routing_events(customer, "waiting")
    assert "no available agent" in waiting.body


@time_machine.travel(datetime(2026, 11, 23, 21, 0, tzinfo=ZoneInfo("America/New_York")))
def test_after_hours_the_case_waits_for_the_opening(customer, agent, routed):
    StoreFactory(business_hours={"mon": [["09:00", "18:00"]], "tue": [["09:00", "18:00"]]})
    profile(agent)

    with routed():
        event = inbound(customer, "Are you open?")

    assert Case.objects.get(pk=event.case_id).assignee is None
    [after] = routing_events(customer, "after_hours")
    assert (
        after.body
        == f"After hours: case #{event.case_id} waits for the opening, Tue 09:00 (America/New_York)"
    )
    assert after.data["opens_at"] == "2026-11-24T09:00:00-05:00"
    # the engagement acknowledgement, once, carries the link to schedule a call back
    [ack] = Nudge.objects.filter(customer=customer, rule="after_hours")
    assert "/callback/" in ack.body


@time_machine.travel(datetime(2026, 11, 23, 21, 0, tzinfo=ZoneInfo("America/New_York")))
def test_after_hours_a_booked_call_back_is_not_acknowledged_again(customer, routed):
    StoreFactory(business_hours={"tue": [["09:00", "18:00"]]})

    with routed():
        inbound(customer, "Please call me back", channel="web", data={"call_back": 1})

    assert len(routing_events(customer, "after_hours")) == 1
