from datetime import timedelta

import pytest
from django.db import DataError, transaction
from django.utils import timezone

from conversations import journal
from conversations.models import Case, Conversation, Event
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def say(customer, body="hello", **kwargs):
    fields = {"channel": "sms", "kind": "message", "direction": "in", "body": body} | kwargs
    return journal.record(customer=customer, **fields)


def test_it_appends_events_with_consecutive_seq():
    customer = CustomerFactory()

    events = [say(customer, f"message {n}") for n in range(3)]

    assert [e.seq for e in events] == [1, 2, 3]
    assert Conversation.objects.get().last_seq == 3


def test_an_inbound_message_opens_a_case_that_later_events_join():
    customer = CustomerFactory()

    question = say(customer, "Is the T900 warranty 5 years?")
    answer = say(customer, "Yes, 5 years on the motor.", direction="out", channel="sms")

    case = Case.objects.get()
    assert question.case == case and answer.case == case
    assert case.status == Case.Status.OPEN
    conversation = Conversation.objects.get()
    assert conversation.current_case == case
    assert conversation.status == Conversation.Status.OPEN


def test_events_that_ask_nothing_open_no_case():
    customer = CustomerFactory()

    say(customer, kind="page_view", channel="web", body="/products/t900")

    assert not Case.objects.exists()
    assert Conversation.objects.get().status == Conversation.Status.IDLE


def test_an_agent_reply_sets_the_first_response_time_once(agent):
    customer = CustomerFactory()
    say(customer)

    first = say(customer, "On it", direction="out", author=agent)
    say(customer, "Anything else?", direction="out", author=agent)

    assert Case.objects.get().first_response_at == first.recorded_at


def test_it_keeps_the_inbox_summary():
    customer = CustomerFactory()
    earlier = timezone.now() - timedelta(hours=1)

    say(customer, channel="web")
    say(customer, channel="sms")
    say(customer, channel="voice", kind="call", occurred_at=earlier)  # late webhook for an old call
    out = say(customer, direction="out")

    conversation = Conversation.objects.get()
    assert conversation.unread_count == 2
    assert conversation.last_channel == "sms"  # the old call is not where she last spoke
    assert conversation.last_inbound_at > earlier  # an old event never moves it backwards
    assert conversation.last_outbound_at == out.occurred_at


def test_a_repeated_source_id_returns_the_original_event_unchanged():
    customer = CustomerFactory()
    original = say(customer, "first delivery", source_id="SM123")

    repeat = say(customer, "retried delivery", source_id="SM123")

    assert repeat.pk == original.pk
    assert repeat.body == "first delivery"
    assert Event.objects.count() == 1
    assert Conversation.objects.get().last_seq == 1


def test_the_same_source_id_on_another_channel_is_another_event():
    customer = CustomerFactory()

    say(customer, source_id="X1", channel="sms")
    say(customer, source_id="X1", channel="voice", kind="call")

    assert Event.objects.count() == 2


def test_nothing_is_half_written_when_the_insert_fails():
    customer = CustomerFactory()
    say(customer)

    with pytest.raises(DataError):
        say(customer, channel="a-channel-name-longer-than-the-column-allows")

    conversation = Conversation.objects.get()
    assert conversation.last_seq == 1
    assert conversation.unread_count == 1
    assert Event.objects.count() == 1


def test_a_record_for_a_merged_customer_lands_on_the_survivor():
    from conversations.identities import merge_customers

    older, newer = CustomerFactory(), CustomerFactory()
    merge_customers(older, newer)

    event = say(newer, "after the merge")

    assert event.conversation.customer == older


@pytest.mark.django_db(transaction=True)
def test_8_concurrent_writers_leave_a_gap_free_seq(concurrently):
    customer = CustomerFactory()

    def write(writer):
        return [say(customer, f"writer {writer} message {n}").seq for n in range(25)]

    results = concurrently(write, [(w,) for w in range(8)])

    seqs = sorted(s for r in results for s in r)
    assert seqs == list(range(1, 201))
    assert list(Event.objects.order_by("seq").values_list("seq", flat=True)) == seqs
    assert Conversation.objects.get().last_seq == 200


@pytest.mark.django_db(transaction=True)
def test_20_concurrent_records_of_one_source_id_leave_one_event(concurrently):
    customer = CustomerFactory()

    events = concurrently(lambda: say(customer, source_id="SMdup"), [()] * 20)

    assert len({e.pk for e in events}) == 1
    assert Event.objects.count() == 1
    assert Conversation.objects.get().last_seq == 1


@pytest.mark.django_db(transaction=True)
def test_one_source_id_sent_for_two_customers_at_once_is_recorded_once(concurrently):
    a, b = CustomerFactory(), CustomerFactory()

    events = concurrently(lambda c: say(c, source_id="SMboth"), [(a,), (b,)] * 5)

    assert len({e.pk for e in events}) == 1
    assert Event.objects.count() == 1
    assert sum(Conversation.objects.values_list("last_seq", flat=True)) == 1
    # the loser opened a case before it lost: that must have been undone with it
    assert Case.objects.count() == 1
    for customer in (a, b):
        say(customer, "and a second question")  # no stray unresolved case blocks a new one
    assert Case.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_an_event_recorded_in_a_transaction_that_rolls_back_is_never_broadcast(broadcasts):
    customer = CustomerFactory()

    with pytest.raises(RuntimeError), transaction.atomic():
        say(customer, "never happened")
        raise RuntimeError("the caller failed after recording")
    kept = say(customer, "this one stays")

    received = broadcasts.collect()
    bodies = [m["event"]["body"] for _, m in received if m["type"] == "journal.event"]
    assert bodies == ["this one stays"]
    assert kept.seq == 1  # the rolled-back seq was handed out again: no gap


@pytest.mark.django_db(transaction=True)
def test_a_committed_event_is_broadcast_to_its_conversation_and_the_inbox(broadcasts):
    customer = CustomerFactory()

    event = say(customer, "hello")

    received = dict(broadcasts.collect())
    conversation_id = event.conversation_id
    assert received[f"conv.{conversation_id}"]["event"]["seq"] == 1
    assert received["inbox"]["conversation"]["conversation"] == conversation_id
    assert received["inbox"]["conversation"]["unread_count"] == 1


def test_an_identity_finds_a_known_sender_within_the_append():
    from conversations.identities import resolve_customer

    customer = resolve_customer("phone", "+14155550132")
    say(customer, "first")  # opens the case: from here on the one-statement path

    event = journal.record(
        identity=("phone", "+14155550132"), channel="sms", kind="message", direction="in"
    )

    assert event.conversation.customer_id == customer.pk and event.seq == 2


def test_an_identity_nobody_has_yet_makes_a_new_customer():
    event = journal.record(
        identity=("phone", "+14155550199"), channel="sms", kind="message", direction="in"
    )

    assert event.seq == 1
    assert event.conversation.customer.identities.get().value == "+14155550199"


def test_an_identity_of_a_merged_customer_lands_on_the_survivor():
    from conversations.identities import link_identity, resolve_customer

    older = resolve_customer("email", "dana@example.com")
    newer = resolve_customer("phone", "+14155550132")
    say(newer, "opens a case")
    link_identity(older, "phone", "+14155550132")  # moves the phone to the survivor

    event = journal.record(
        identity=("phone", "+14155550132"), channel="sms", kind="message", direction="in"
    )

    assert event.conversation.customer_id == older.pk


def test_record_takes_a_customer_or_an_identity():
    with pytest.raises(TypeError):
        journal.record(channel="sms", kind="message", direction="in")


def test_an_internal_event_keeps_its_author_on_the_one_statement_path(agent):
    customer = CustomerFactory()
    say(customer)  # opens the case: the note below takes the one-statement path

    note = journal.record(
        customer=customer,
        channel=Event.Channel.SYSTEM,
        kind="note",
        direction=Event.Direction.INTERNAL,
        body="Prefers calls after 5pm",
        author=agent,
    )

    assert Event.objects.get(pk=note.pk).author_id == agent.pk
