"""The facts kept event by event (the hook) are those rebuilt from the journal."""

import pytest
from django.db import connection

from base import plugins
from conversations.models import Event
from insights import facts
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
