"""batch.record_many: a batch of appends in a constant number of statements."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conversations import batch, journal
from conversations.models import Case, Conversation, Event
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def item(customer, body="viewed", **kwargs):
    return {
        "customer": customer,
        "channel": "api",
        "kind": "page_view",
        "direction": "internal",
        "body": body,
    } | kwargs


def test_it_numbers_each_conversations_events_in_item_order():
    a, b = CustomerFactory(), CustomerFactory()
    journal.record(**item(a, "before"))

    events = batch.record_many(
        [item(a, "a1"), item(b, "b1"), item(a, "a2"), item(b, "b2"), item(a, "a3")]
    )

    assert [(e.conversation.customer_id, e.seq, e.body) for e in events] == [
        (a.pk, 2, "a1"),
        (b.pk, 1, "b1"),
        (a.pk, 3, "a2"),
        (b.pk, 2, "b2"),
        (a.pk, 4, "a3"),
    ]
    assert all(e.pk for e in events)
    stored = Event.objects.filter(conversation__customer=a).order_by("seq")
    assert list(stored.values_list("seq", "body")) == [
        (1, "before"),
        (2, "a1"),
        (3, "a2"),
        (4, "a3"),
    ]
    assert Conversation.objects.get(customer=a).last_seq == 4
    assert Conversation.objects.get(customer=b).last_seq == 2


def test_it_keeps_the_inbox_summary_as_record_does():
    by_one, by_many = CustomerFactory(), CustomerFactory()
    now = timezone.now()
    items = [
        {"channel": "web", "kind": "page_view", "direction": "in", "occurred_at": now},
        {"channel": "sms", "kind": "note", "direction": "out", "occurred_at": now},
        {"channel": "api", "kind": "cart", "direction": "internal", "occurred_at": now},
        {
            "channel": "email",
            "kind": "scan",
            "direction": "in",
            "occurred_at": now - timedelta(hours=1),
        },
    ]
    for customer in (by_one, by_many):
        journal.record(
            customer=customer,
            channel="sms",
            kind="message",
            direction="in",
            occurred_at=now - timedelta(hours=2),
        )

    for fields in items:
        journal.record(customer=by_one, **fields)
    batch.record_many([{"customer": by_many, **fields} for fields in items])

    summary = [
        "last_seq",
        "last_event_at",
        "last_inbound_at",
        "last_outbound_at",
        "last_channel",
        "unread_count",
        "status",
        "current_case_id",
    ]
    one = Conversation.objects.values(*summary).get(customer=by_one)
    many = Conversation.objects.values(*summary).get(customer=by_many)
    assert many.pop("current_case_id") is not None and one.pop("current_case_id") is not None
    assert many == one
    # the email scan came last but happened an hour earlier: the web is where she last was
    assert many["last_channel"] == "web" and many["last_inbound_at"] == now


def test_events_join_the_open_case():
    customer = CustomerFactory()
    question = journal.record(customer=customer, channel="sms", kind="message", direction="in")

    (event,) = batch.record_many([item(customer)])

    assert event.case_id == question.case_id is not None


def test_an_event_that_opens_a_case_goes_through_record_with_the_rest_of_its_customer():
    customer = CustomerFactory()

    events = batch.record_many(
        [
            item(customer, "first"),
            item(customer, "help", channel="sms", kind="message", direction="in"),
            item(customer, "after"),
        ]
    )

    case = Case.objects.get()
    assert [e.seq for e in events] == [1, 2, 3]
    assert [e.case_id for e in events] == [None, case.pk, case.pk]
    conversation = Conversation.objects.get()
    assert conversation.current_case == case and conversation.unread_count == 1


def test_already_recorded_and_repeated_source_ids_are_skipped(django_assert_max_num_queries):
    customer = CustomerFactory()
    original = journal.record(**item(customer, "original", source_id="e-1"))

    with django_assert_max_num_queries(6):  # the batched path, not record() item by item
        events = batch.record_many(
            [
                item(customer, "again", source_id="e-1"),
                item(customer, "new", source_id="e-2"),
                item(customer, "new again", source_id="e-2"),
                item(customer, "other channel", source_id="e-1", channel="web"),
            ]
        )

    assert events[0].pk == original.pk and events[0].body == "original"
    assert events[1].pk == events[2].pk and events[2].body == "new"
    assert events[3].pk not in (original.pk, events[1].pk)
    assert [e.seq for e in events] == [1, 2, 2, 3]  # no gap left by the skipped ones
    assert Event.objects.count() == 3
    assert Conversation.objects.get().last_seq == 3


def test_a_source_id_recorded_meanwhile_sends_the_batch_through_record(monkeypatch):
    customer = CustomerFactory()
    original = journal.record(**item(customer, "original", source_id="e-1"))
    # as if a concurrent writer recorded e-1 after record_many looked for it
    monkeypatch.setattr(batch, "_recorded_many", lambda keys: {})

    with transaction.atomic():
        events = batch.record_many(
            [item(customer, "new", source_id="e-2"), item(customer, "late", source_id="e-1")]
        )

    assert events[1].pk == original.pk
    assert [e.seq for e in events] == [2, 1]
    assert Conversation.objects.get().last_seq == 2  # the failed bulk attempt left no gap
    assert Event.objects.count() == 2


def test_a_merged_customers_events_land_with_the_survivor():
    from conversations.identities import merge_customers

    older, newer = CustomerFactory(), CustomerFactory()
    merge_customers(older, newer)
    seq = Conversation.objects.get(customer=older).last_seq

    events = batch.record_many([item(newer, "one"), item(older, "two"), item(newer, "three")])

    assert {e.conversation.customer_id for e in events} == {older.pk}
    assert sorted(e.seq for e in events) == [seq + 1, seq + 2, seq + 3]
    assert events[0].seq < events[2].seq
    assert Conversation.objects.get(customer=older).last_seq == seq + 3


def test_a_batch_costs_the_same_statements_whatever_its_size():
    customers = [CustomerFactory() for _ in range(3)]

    def statements(size, prefix):
        with CaptureQueriesContext(connection) as queries:
            batch.record_many(
                [item(customers[n % 3], source_id=f"{prefix}-{n}") for n in range(size)]
            )
        return len(queries)

    assert statements(300, "big") == statements(3, "small") <= 6


@pytest.mark.django_db(transaction=True)
def test_concurrent_record_and_record_many_leave_a_gap_free_seq_in_order(concurrently):
    customers = [CustomerFactory() for _ in range(3)]

    def write(writer):
        for n in range(10):
            if writer % 2:
                journal.record(**item(customers[0], f"{writer}:{n}"))
            else:
                # each batch names the customers in another order
                order = customers[writer % 3 :] + customers[: writer % 3]
                batch.record_many(
                    [item(customer, f"{writer}:{n}:{k}") for k in range(3) for customer in order]
                )

    concurrently(write, [(w,) for w in range(6)])

    for customer in customers:
        stored = list(
            Event.objects.filter(conversation__customer=customer)
            .order_by("seq")
            .values_list("seq", "body")
        )
        assert [seq for seq, _ in stored] == list(range(1, len(stored) + 1))
        assert Conversation.objects.get(customer=customer).last_seq == len(stored)
        # each writer's events keep the order it wrote them in
        for writer in range(6):
            mine = [body for _, body in stored if body.split(":")[0] == str(writer)]
            keyed = [tuple(int(part) for part in body.split(":")[1:]) for body in mine]
            assert keyed == sorted(keyed)
    assert Event.objects.filter(conversation__customer=customers[0]).count() == 30 + 3 * 30


@pytest.mark.django_db(transaction=True)
def test_events_are_broadcast_after_commit_and_never_on_rollback(broadcasts):
    customer = CustomerFactory()

    with pytest.raises(RuntimeError), transaction.atomic():
        batch.record_many([item(customer, "never happened")])
        raise RuntimeError("the caller failed after recording")
    with transaction.atomic():
        events = batch.record_many([item(customer, "one"), item(customer, "two")])
        assert broadcasts.collect(0.3) == []  # nothing before the commit

    received = broadcasts.collect()
    conversation_id = events[0].conversation_id
    bodies = [m["event"]["body"] for _, m in received if m["type"] == "journal.event"]
    assert bodies == ["one", "two"]
    assert [g for g, m in received if m["type"] == "journal.event"] == [
        f"conv.{conversation_id}"
    ] * 2
    inbox = [m["conversation"] for g, m in received if g == "inbox"]
    assert inbox and inbox[-1]["conversation"] == conversation_id and inbox[-1]["last_seq"] == 2


@pytest.mark.django_db(transaction=True)
def test_event_hooks_run_after_commit(settings):
    seen = []
    settings.THROUGHLINE_EVENT_HOOKS = ["tests.conversations.test_record_many.remember"]
    REMEMBERED.clear()
    customer = CustomerFactory()
    with transaction.atomic():
        batch.record_many([item(customer, "one"), item(customer, "two")])
        seen.extend(REMEMBERED)
    assert seen == []
    assert [e.body for e in REMEMBERED] == ["one", "two"]


REMEMBERED: list = []


def remember(event):
    REMEMBERED.append(event)
