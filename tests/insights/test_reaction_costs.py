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


def test_a_follow_up_costs_facts_one_statement(follow_up, django_assert_num_queries):
    assert follow_up.case_id is not None
    # _FOLLOW_UP_SQL: the locks, the writes and the answer in one (live, in autocommit)
    with django_assert_num_queries(1):
        facts.on_event(follow_up)

    (contact,) = Contact.objects.filter(case_id=follow_up.case_id)
    assert contact.last_at == follow_up.occurred_at  # the statement extended it


def test_a_new_contact_is_declined_to_the_locked_path(follow_up, django_assert_num_queries):
    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        call = journal.record(customer=follow_up.conversation.customer, channel="voice",
                              kind="call", direction="in")  # fmt: skip
    # the one statement declines (another channel: a new contact), writing nothing the
    # locked path would not: a savepoint (live, BEGIN), the lock, its statement, the
    # contact, the fact read and its update, the release (live, COMMIT)
    with django_assert_num_queries(8):
        facts.on_event(call)

    contacts = Contact.objects.filter(case_id=follow_up.case_id).order_by("number")
    assert [(c.number, c.channel, c.prev_channel) for c in contacts] == [
        (1, "sms", ""),
        (2, "voice", "sms"),
    ]


def test_a_follow_up_costs_outcomes_one_statement(follow_up, django_assert_num_queries):
    with django_assert_num_queries(1):
        outcomes.on_event(follow_up)


def test_events_outcomes_ignore_cost_nothing(django_assert_num_queries):
    view = journal.record(customer=CustomerFactory(), channel="web", kind="page_view",
                          direction="in")  # fmt: skip
    with django_assert_num_queries(0):
        outcomes.on_event(view)
