"""What insights' reactions cost on a follow-up (bench.reactions times them): a customer's
second text on her case is the commonest event they see."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from conversations import journal
from insights import facts, outcomes
from insights.models import Contact
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _text(customer, body: str):
    return journal.record(customer=customer, channel="sms", kind="message", direction="in",
                          body=body)  # fmt: skip


@pytest.fixture
def follow_up():
    customer = CustomerFactory()
    first = _text(customer, "Is the T900 in stock?")
    facts.on_event(first)
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        return _text(customer, "And in blue?")


def test_a_follow_up_costs_facts_the_case_lock_and_one_statement(
    follow_up, django_assert_num_queries
):
    assert follow_up.case_id is not None
    # a savepoint (the test's transaction holds it; live, BEGIN), the lock, the
    # statement, its release (live, COMMIT)
    with django_assert_num_queries(4):
        facts.on_event(follow_up)

    (contact,) = Contact.objects.filter(case_id=follow_up.case_id)
    assert contact.last_at == follow_up.occurred_at  # the statement extended it


def test_a_follow_up_costs_outcomes_one_statement(follow_up, django_assert_num_queries):
    with django_assert_num_queries(1):
        outcomes.on_event(follow_up)


def test_events_outcomes_ignore_cost_nothing(django_assert_num_queries):
    view = journal.record(customer=CustomerFactory(), channel="web", kind="page_view",
                          direction="in")  # fmt: skip
    with django_assert_num_queries(0):
        outcomes.on_event(view)
