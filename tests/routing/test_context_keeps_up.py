"""A context that keeps up: the open case's intent follows the customer's orders and carts,
and the suggestions an order, a call or a booked call back has answered go away."""

from datetime import timedelta

import pytest
from django.utils import timezone

from console.suggestions import suggest
from conversations import journal
from conversations.context import build_context
from conversations.models import Case, Event
from routing.callbacks import schedule_call_back
from routing.models import IntentRule
from tests.commerce.helpers import order, view

pytestmark = pytest.mark.django_db


def inbound(customer, body="Hello", *, channel="sms", kind="message", **extra):
    return journal.record(
        customer=customer, channel=channel, kind=kind, direction="in", body=body, **extra
    )


def intents(customer):
    return [
        e.data["intent"]
        for e in Event.objects.filter(
            conversation__customer=customer, kind="routing", data__action="intent"
        ).order_by("seq")
    ]


def test_an_order_turns_a_product_evaluation_into_order_support(customer, sales, support, routed):
    with routed():
        view(customer, "v1")
        question = inbound(customer, "Does it fold?", channel="web")
    case = Case.objects.get(pk=question.case_id)
    assert (case.intent, case.team) == ("product evaluation", sales)

    with routed():
        order(customer, "o1", order_id="4242")

    case.refresh_from_db()
    assert (case.intent, case.team) == ("order support", support)
    assert intents(customer) == ["product evaluation", "order support"]
    last = Event.objects.filter(conversation__customer=customer, kind="routing").last()
    assert last.body.startswith("Intent: order support, team Support (after an order, context:")
    assert "4242" in last.body


def test_a_text_rules_intent_stays_after_an_order(customer, support, routed):
    IntentRule.objects.create(name="Refunds", phrases=["refund"], intent="refund", team=support)
    with routed():
        question = inbound(customer, "I want a refund")
        order(customer, "o1")

    assert Case.objects.get(pk=question.case_id).intent == "refund"
    assert intents(customer) == ["refund"]


def test_an_order_replayed_records_nothing_more(customer, sales, support, routed):
    from routing.triage import reevaluate

    with routed():
        view(customer, "v1")
        inbound(customer, "Does it fold?", channel="web")
    with routed():
        placed = order(customer, "o1")
    assert reevaluate(placed) is None  # the context says the same thing again
    assert intents(customer) == ["product evaluation", "order support"]


def test_an_order_with_no_open_case_changes_nothing(customer, routed):
    with routed():
        order(customer, "o1")
    assert not Case.objects.filter(conversation__customer=customer).exists()
    assert intents(customer) == []


def actions(customer):
    return [s.action for s in suggest(build_context(customer))]


def missed_calls(customer, n=2):
    for _ in range(n):
        inbound(customer, "Missed call", channel="voice", kind="missed_call")


def test_a_booked_call_back_is_not_suggested_again(customer, routed):
    with routed():
        missed_calls(customer)
    assert "call_back" in actions(customer)

    schedule_call_back(customer=customer, slot=timezone.now() + timedelta(hours=2), time_zone="UTC")

    assert "call_back" not in actions(customer)


def test_a_call_that_got_through_answers_the_question_and_the_missed_calls(customer, routed):
    with routed():
        missed_calls(customer)
        inbound(customer, "Is the warranty two years?")
    assert {"call_back", "answer"} <= set(actions(customer))

    with routed():
        journal.record(
            customer=customer,
            channel="voice",
            kind="call",
            direction="out",
            body="Call to the customer",
            data={"status": "completed", "duration": 180},
        )

    assert {"call_back", "answer"}.isdisjoint(actions(customer))


def test_a_call_back_attempt_nobody_answered_leaves_the_call_back_suggested(customer, routed):
    with routed():
        missed_calls(customer)
        journal.record(
            customer=customer,
            channel="voice",
            kind="call",
            direction="out",
            body="Call to the customer",
            data={"status": "no-answer"},
        )

    assert "call_back" in actions(customer)
