"""The journal's partitions (ADR 0009): made ahead, a default that refuses nothing, the
global (channel, source_id) key across partitions, redaction and retention per partition."""

from __future__ import annotations

import itertools
import threading
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from conversations import journal, partitions
from conversations.models import Event, EventSource, Outbox
from insights.models import Journey
from privacy.retention import drop_expired_events, redact_expired
from tests.factories import CustomerFactory
from tests.privacy.conftest import build_history
from tests.privacy.conftest import sent_and_deleted as sent_and_deleted  # a fixture

pytestmark = pytest.mark.django_db

SIZE = 1000  # ids per partition in these tests


@pytest.fixture
def ids(settings):
    """Moves the event id sequence (not transactional) and puts it back afterwards.

    `ids.jump_to(n)`: the next event gets id n. The first range past every existing one
    starts at `ids.top`."""
    settings.THROUGHLINE_JOURNAL_PARTITION_SIZE = SIZE
    settings.THROUGHLINE_JOURNAL_PARTITIONS_AHEAD = 2
    restore = partitions.next_id()

    class Ids:
        top = max(p.upper for p in partitions.partitions() if not p.is_default)

        @staticmethod
        def jump_to(n: int) -> None:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence('conversations_event', 'id'), %s, false)",
                    [n],
                )

    yield Ids
    Ids.jump_to(restore)


def where(event: Event) -> str:
    """The partition holding the event."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM conversations_event WHERE id = %s", [event.pk]
        )
        return cursor.fetchone()[0]


def say(customer, body="hello", **kwargs) -> Event:
    fields = {"channel": "sms", "kind": "message", "direction": "in", "body": body} | kwargs
    return journal.record(customer=customer, **fields)


def test_the_journal_is_partitioned_by_id_with_a_default_partition():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relkind, pg_get_partkeydef(oid) FROM pg_class"
            " WHERE oid = 'conversations_event'::regclass"
        )
        assert cursor.fetchone() == ("p", "RANGE (id)")
    found = partitions.partitions()
    assert found[-1].is_default and found[-1].name == "conversations_event_default"
    assert found[0].lower is None  # the journal the migration started from: every older id
    ranges = [p for p in found if not p.is_default]
    assert all(a.upper == b.lower for a, b in itertools.pairwise(ranges))
    assert ranges[-1].upper > partitions.next_id()


def test_partitions_are_made_ahead_of_the_ids_and_appends_land_in_them(ids):
    ids.jump_to(ids.top - 5)  # five ids left in the last range: the next ones need more

    created = partitions.create_ahead()

    assert created == [f"conversations_event_p{ids.top}", f"conversations_event_p{ids.top + SIZE}"]
    assert partitions.create_ahead() == []  # made already: nothing to do
    customer = CustomerFactory()
    events = [say(customer, f"message {n}") for n in range(7)]
    assert {where(e) for e in events[:5]} != {f"conversations_event_p{ids.top}"}
    assert where(events[-1]) == f"conversations_event_p{ids.top}"
    assert [e.seq for e in events] == list(range(1, 8))


def test_ids_nobody_made_a_range_for_go_to_the_default_and_ranges_start_past_them(ids):
    customer = CustomerFactory()
    ids.jump_to(ids.top + 10)  # past every range: the maintenance task has not run
    reply = say(customer, "your order shipped", direction="out", source_id="SMdefault1")
    Outbox.objects.create(channel="sms", event=reply, to_address="+14155550100", body="x")
    assert where(reply) == "conversations_event_default"

    created = partitions.create_ahead()

    # the range starts past what the default holds, and ends on the size's multiples
    assert created == [
        f"conversations_event_p{ids.top + 11}",
        f"conversations_event_p{ids.top + SIZE}",
        f"conversations_event_p{ids.top + 2 * SIZE}",
    ]
    assert where(reply) == "conversations_event_default"  # it stays, as does its outbox row
    later = say(customer, "it arrives tomorrow")
    assert where(later) == f"conversations_event_p{ids.top + 11}"
    again = say(customer, "your order shipped", direction="out", source_id="SMdefault1")
    assert again.pk == reply.pk
    assert [
        e.seq for e in Event.objects.filter(conversation=reply.conversation).order_by("id")
    ] == [1, 2]


def test_a_source_id_is_unique_across_partitions(ids):
    ids.jump_to(ids.top - 1)
    partitions.create_ahead()
    customer = CustomerFactory()
    first = say(customer, "Is it in stock?", source_id="SMacross")
    ids.jump_to(ids.top + SIZE + 3)  # the next range, another partition

    repeat = say(customer, "Is it in stock?", source_id="SMacross")
    elsewhere = say(CustomerFactory(), "Is it in stock?", source_id="SMacross")

    assert repeat.pk == first.pk and elsewhere.pk == first.pk
    assert Event.objects.filter(source_id="SMacross").count() == 1
    other = say(customer, "And in blue?", source_id="SMblue")
    assert where(other) != where(first)
    with pytest.raises(IntegrityError), transaction.atomic():  # any writer, not only record()
        Event.objects.create(
            conversation=other.conversation,
            seq=99,
            channel="sms",
            direction="in",
            kind="message",
            source_id="SMacross",
        )
    # the same id on another channel is another event
    assert say(customer, "hi", channel="web", source_id="SMacross").pk != first.pk


def test_the_key_follows_a_source_id_set_later_or_cleared():
    customer = CustomerFactory()
    reply = say(customer, "Thanks!", direction="out")
    assert not EventSource.objects.exists()

    Event.objects.filter(pk=reply.pk).update(source_id="SMlater")  # the provider's receipt
    assert EventSource.objects.get().event_id == reply.pk
    clash = say(customer, "Another", direction="out")
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.filter(pk=clash.pk).update(source_id="SMlater")

    Event.objects.filter(pk=reply.pk).update(source_id=None)  # an erasure clears it
    assert not EventSource.objects.exists()
    assert say(customer, "again", source_id="SMlater").pk != reply.pk  # free again


def test_redaction_reaches_events_in_every_partition(ids, settings):
    settings.PRIVACY_RETENTION_DAYS = 30
    ids.jump_to(ids.top - 1)
    partitions.create_ahead()
    customer = CustomerFactory()
    with time_machine.travel(timezone.now() - timedelta(days=40)):
        older = say(customer, "my address is 1 Elm St")
        ids.jump_to(ids.top + 1)
        newer = say(customer, "and my card ends 4242")
    assert where(older) != where(newer)

    assert redact_expired() == 2

    for event in (older, newer):
        event.refresh_from_db()
        assert event.body == "" and event.data["redacted"] is True


def test_event_retention_drops_whole_old_partitions_only(ids, settings, sent_and_deleted):
    settings.PRIVACY_EVENT_RETENTION_DAYS = 0
    ids.jump_to(ids.top - 1)
    partitions.create_ahead()
    ids.jump_to(ids.top)
    with time_machine.travel(timezone.now() - timedelta(days=400)):
        old = build_history()
    Outbox.objects.update(status=Outbox.Status.SENT)  # long delivered
    old_partition = where(old.customer.conversation.events.first())
    assert old_partition == f"conversations_event_p{ids.top}"
    ids.jump_to(ids.top + SIZE)
    recent = say(old.customer, "still here?")
    assert drop_expired_events() is None  # 0: events are kept for ever
    old_events = old.customer.conversation.events.exclude(pk=recent.pk)
    assert old_events.count() == old.events

    settings.PRIVACY_EVENT_RETENTION_DAYS = 365
    result = drop_expired_events()

    assert old_partition in result.dropped
    assert where(recent) not in result.dropped and not result.kept
    assert list(old.customer.conversation.events.all()) == [recent]
    assert not Outbox.objects.exists()  # its settled outbox rows went with the events
    assert not EventSource.objects.filter(event_id__lt=ids.top + SIZE).exists()
    assert old_partition not in {p.name for p in partitions.partitions()}
    assert say(old.customer, "and now?").seq == recent.seq + 1


def test_an_unsettled_outbox_row_keeps_its_partition(ids, settings):
    settings.PRIVACY_EVENT_RETENTION_DAYS = 30
    ids.jump_to(ids.top - 1)
    partitions.create_ahead()
    ids.jump_to(ids.top)
    customer = CustomerFactory()
    with time_machine.travel(timezone.now() - timedelta(days=40)):
        reply = say(customer, "on its way", direction="out")
        Outbox.objects.create(channel="sms", event=reply, to_address="+14155550100")
        Journey.objects.create(
            event=reply,
            conversation_id=reply.conversation_id,
            ends_with="order",
            path="sms",
            occurred_at=reply.occurred_at,
        )
    ids.jump_to(ids.top + SIZE)
    say(customer, "hello")

    result = drop_expired_events()

    assert "conversations.Outbox.event" in result.kept[f"conversations_event_p{ids.top}"]
    assert Event.objects.filter(pk=reply.pk).exists()
    assert Journey.objects.filter(event=reply).exists()  # nothing of it was deleted either


def test_the_command_makes_and_lists_partitions(ids):
    ids.jump_to(ids.top - 1)
    out = StringIO()

    call_command("journal_partitions", stdout=out)

    text = out.getvalue()
    assert text.startswith("created 2: ")
    assert f"conversations_event_p{ids.top}: ids {ids.top} to {ids.top + SIZE - 1}" in text
    assert "conversations_event_default: default" in text
    out = StringIO()
    call_command("journal_partitions", "--list", stdout=out)
    assert "created" not in out.getvalue() and f"p{ids.top + SIZE}" in out.getvalue()


def test_the_hourly_task_makes_them_too(ids, settings):
    from conversations.tasks import journal_partitions

    assert settings.CELERY_BEAT_SCHEDULE["journal-partitions"]["task"] == journal_partitions.name
    ids.jump_to(ids.top - 1)

    journal_partitions()

    assert f"conversations_event_p{ids.top}" in {p.name for p in partitions.partitions()}


@pytest.mark.django_db(transaction=True)
def test_a_busy_journal_makes_the_task_give_up_quickly_and_try_again_later(ids):
    """A transaction holding the journal (here: one that read it and stays open) never
    waits behind partition upkeep for long, nor deadlocks with it: the task gives up
    after its short lock timeout, makes what it can next time."""
    ids.jump_to(ids.top - 1)
    holding, release = threading.Event(), threading.Event()

    def reader():
        try:
            with transaction.atomic():
                Event.objects.filter(pk=1).exists()  # ACCESS SHARE on the journal
                holding.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        assert holding.wait(timeout=10)
        assert partitions.create_ahead() == []  # busy: nothing made, nothing raised
    finally:
        release.set()
        thread.join(timeout=10)
    made = partitions.create_ahead()
    try:
        assert made == [f"conversations_event_p{ids.top}", f"conversations_event_p{ids.top + SIZE}"]
    finally:
        with connection.cursor() as cursor:  # no rollback here: leave no range behind
            for name in made:
                cursor.execute(f"ALTER TABLE conversations_event DETACH PARTITION {name}")
                cursor.execute(f"DROP TABLE {name}")
