"""A late event keeps its time in the timeline and never overrides newer state: a need from
before a resolution does not reopen the case, an old message does not move the channel
the customer last spoke on. Both arrival orders leave the same state."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from conversations import batch, journal
from conversations.cases import resolve_case
from conversations.models import Case, Conversation, Event
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

START = timezone.now().replace(microsecond=0) - timedelta(days=1)


def at(minute: int):
    return START + timedelta(minutes=minute)


def message(customer, minute: int, *, channel=Event.Channel.SMS, sid=None):
    return journal.record(
        customer=customer,
        channel=channel,
        kind="message",
        direction=Event.Direction.IN,
        body="Is the T900 in stock?",
        source_id=sid or f"SM{customer.pk}-{minute}",
        occurred_at=at(minute),
    )


def resolve_at(customer, minute: int, agent):
    with time_machine.travel(at(minute), tick=False):
        case = Case.objects.get(conversation__customer=customer, status=Case.Status.OPEN)
        resolve_case(case, by=agent)


def case_state(customer):
    conversation = Conversation.objects.get(customer=customer)
    return (
        conversation.status,
        conversation.current_case_id is None,
        list(Case.objects.filter(conversation=conversation).values_list("status", flat=True)),
    )


def test_a_need_from_before_the_resolution_does_not_reopen_the_case(agent):
    # given: a case opened at 0 and resolved at 10
    customer = CustomerFactory()
    message(customer, 0)
    resolve_at(customer, 10, agent)
    resolved = Case.objects.get()

    # when: a text written at 5 arrives now
    late = message(customer, 5)

    # then: it joins the case of its time, which stays resolved
    assert Case.objects.count() == 1 and Case.objects.get().status == Case.Status.RESOLVED
    assert late.case_id == resolved.pk and late.occurred_at == at(5)
    conversation = Conversation.objects.get(customer=customer)
    assert conversation.status == Conversation.Status.IDLE
    assert conversation.current_case_id is None
    assert late.seq == conversation.last_seq  # seq is the arrival order, as always


def test_both_arrival_orders_leave_the_case_resolved(agent):
    in_time, late = CustomerFactory(), CustomerFactory()
    # the text written at 5 arrives before the resolution at 10...
    message(in_time, 0)
    message(in_time, 5)
    resolve_at(in_time, 10, agent)
    # ...or after it
    message(late, 0)
    resolve_at(late, 10, agent)
    message(late, 5)

    assert case_state(in_time) == case_state(late) == (Conversation.Status.IDLE, True,
                                                       [Case.Status.RESOLVED])  # fmt: skip


def test_a_need_from_after_the_resolution_opens_a_new_case(agent):
    customer = CustomerFactory()
    message(customer, 0)
    resolve_at(customer, 10, agent)

    event = message(customer, 11)

    conversation = Conversation.objects.get(customer=customer)
    assert conversation.status == Conversation.Status.OPEN
    assert event.case_id == conversation.current_case_id != Case.objects.earliest("pk").pk


def test_a_late_need_in_a_batch_does_not_reopen_the_case_either(agent):
    customer = CustomerFactory()
    message(customer, 0)
    resolve_at(customer, 10, agent)

    (event,) = batch.record_many(
        [
            {
                "customer": customer,
                "channel": Event.Channel.SMS,
                "kind": "message",
                "direction": Event.Direction.IN,
                "body": "hello?",
                "source_id": "SM-batch",
                "occurred_at": at(5),
            }
        ]
    )

    assert case_state(customer) == (Conversation.Status.IDLE, True, [Case.Status.RESOLVED])
    assert event.case_id == Case.objects.get().pk


@pytest.mark.parametrize("path", ["one statement", "record_many"])
def test_an_old_message_does_not_change_the_channel_last_spoken_on(path):
    # given: an open case, the customer last spoke on the web at 10
    customer = CustomerFactory()
    message(customer, 0, channel=Event.Channel.SMS)
    message(customer, 10, channel=Event.Channel.WEB)

    # when: an SMS written at 5 arrives
    late = {
        "customer": customer,
        "channel": Event.Channel.SMS,
        "kind": "message",
        "direction": Event.Direction.IN,
        "body": "late",
        "source_id": "SM-late",
        "occurred_at": at(5),
    }
    if path == "one statement":
        journal.record(**late)
    else:
        batch.record_many([late])

    # then
    conversation = Conversation.objects.get(customer=customer)
    assert conversation.last_channel == Event.Channel.WEB
    assert conversation.last_inbound_at == at(10)


def test_the_newest_of_a_batchs_messages_names_the_channel_whatever_their_order():
    customer = CustomerFactory()
    message(customer, 0)  # opens the case: the batch appends in one statement

    batch.record_many(
        [
            {
                "customer": customer,
                "channel": channel,
                "kind": "message",
                "direction": Event.Direction.IN,
                "body": "hi",
                "source_id": f"b-{minute}",
                "occurred_at": at(minute),
            }
            for channel, minute in [(Event.Channel.WEB, 9), (Event.Channel.SMS, 3)]
        ]
    )

    assert Conversation.objects.get(customer=customer).last_channel == Event.Channel.WEB
