"""The facts kept event by event (the hook) are those rebuilt from the journal."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from base import plugins
from conversations import journal
from conversations.models import Event
from insights import facts
from tests.factories import CustomerFactory
from tests.insights import journeys

pytestmark = pytest.mark.django_db

TABLES = {
    "insights_contact": "case_id, number, channel, prev_channel, seq, started_at, last_at",
    "insights_casefact": "case_id, contacts, first_channel, last_channel",
    "insights_sentmessage": "event_id, conversation_id, channel, sent_at, replied_at",
    "insights_journey": "event_id, conversation_id, ends_with, path, occurred_at",
    "insights_channelused": "conversation_id, channel",
}


def snapshot() -> dict:
    with connection.cursor() as cursor:
        tables = {}
        for table, columns in TABLES.items():
            cursor.execute(f"SELECT {columns} FROM {table} ORDER BY {columns}")  # noqa: S608 (no input in the SQL)
            tables[table] = cursor.fetchall()
        return tables


def test_the_hook_and_the_rebuild_agree(agent):
    journeys.build(agent)
    journeys.build_shopping()
    rebuilt = snapshot()
    assert all(rebuilt.values())
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608 (no input in the SQL)
    for event in Event.objects.order_by("pk"):
        facts.on_event(event)
        facts.on_event(event)  # a hook run twice changes nothing
    assert snapshot() == rebuilt


def test_the_hook_is_registered():
    assert "insights.facts.on_event" in plugins.paths("event_reactions")
    assert "insights.facts.move_to_survivor" in plugins.paths("merge_hooks")


def test_the_command_rebuilds(agent, capsys):
    from django.core.management import call_command

    journeys.build(agent)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM insights_casefact")
    call_command("rebuild_insights")
    assert "Rebuilt" in capsys.readouterr().out
    assert snapshot()["insights_casefact"]


def test_a_case_resolved_after_its_facts_were_written_is_seen_resolved(agent):
    from conversations.cases import resolve_case
    from conversations.models import Case
    from insights.models import CaseFact

    customer = journeys.resolve_customer("email", "late@example.org")
    event = journeys.say(customer, "sms", 0)
    facts.on_event(event)
    case = Case.objects.get(pk=event.case_id)
    assert CaseFact.objects.get(case=case).status == "open"
    trace = resolve_case(case, by=agent)
    facts.on_event(trace)
    fact = CaseFact.objects.get(case=case)
    assert fact.status == "resolved" and fact.resolved_at is not None


@pytest.mark.django_db(transaction=True)
def test_hooks_racing_on_one_case_keep_the_facts_the_rebuild_finds(concurrently):
    """Four workers run the hook on every need of one case at once, each in journal order
    (as `react` processes taking the same events would): the one-statement follow-up and
    the locked path meet on the case's contacts, and the facts come out as rebuilt."""
    customer = CustomerFactory()
    started = timezone.now() - timedelta(hours=3)
    # sms, sms (continues), a call (new contact), sms (new), sms after the gap (new), ...
    steps = [("sms", 0), ("sms", 2), ("voice", 4), ("sms", 6), ("sms", 50), ("sms", 52),
             ("web", 54), ("web", 55), ("sms", 57), ("voice", 120), ("voice", 121)]  # fmt: skip
    for channel, minutes in steps:
        journal.record(
            customer=customer,
            channel=channel,
            direction="in",
            kind="call" if channel == "voice" else "message",
            occurred_at=started + timedelta(minutes=minutes),
        )
    events = list(Event.objects.order_by("seq"))  # with routing's (the case turns hot)
    facts.rebuild()
    rebuilt = snapshot()
    assert len(rebuilt["insights_contact"]) == 7
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608 (no input in the SQL)

    def worker():
        for event in events:
            facts.on_event(event)

    concurrently(worker, [()] * 4)

    assert snapshot() == rebuilt


@pytest.mark.django_db(transaction=True)
def test_a_follow_up_that_waited_for_a_new_contact_sees_it():
    """The one-statement follow-up's snapshot is older than the case lock it waits for:
    a contact created meanwhile (here: a call, while a text queues behind its hook) must
    not be missed, or the text would extend the contact before the call."""
    customer = CustomerFactory()
    started = timezone.now() - timedelta(hours=1)
    _text, call, text_again = (
        journal.record(
            customer=customer,
            channel=channel,
            direction="in",
            kind=kind,
            occurred_at=started + timedelta(minutes=minutes),
        )
        for channel, kind, minutes in [
            ("sms", "message", 0),
            ("voice", "call", 2),
            ("sms", "message", 4),
        ]
    )
    facts.rebuild()
    rebuilt = snapshot()
    facts.rebuild()
    with connection.cursor() as cursor:  # back to the facts after the first text only
        cursor.execute("DELETE FROM insights_contact WHERE number > 1")
        cursor.execute(
            """UPDATE insights_casefact SET contacts = 1, last_channel = 'sms',
            channel_contacts = '{"sms": 1}'"""
        )
    holding, done = threading.Event(), threading.Event()

    def call_hook_holding_the_lock():
        try:
            with transaction.atomic():
                facts.on_event(call)  # a new contact, under the case lock
                holding.set()
                assert done.wait(30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=call_hook_holding_the_lock)
    holder.start()
    assert holding.wait(30)
    follower = threading.Thread(
        target=lambda: (facts.on_event(text_again), connections.close_all())
    )
    follower.start()
    _wait_until_a_query_waits_for_a_lock()
    done.set()
    holder.join(30)
    follower.join(30)

    assert snapshot() == rebuilt


def _wait_until_a_query_waits_for_a_lock():
    deadline = time.monotonic() + 30
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.01)
    raise AssertionError("the follow-up never waited for the case lock")
