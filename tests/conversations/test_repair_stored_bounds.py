"""Rows stored out of bounds before the edges were strict (issue 14) cannot take pages
down: `repair_stored_bounds` (conversations/repair.py, run by migration 0009) finds them in
SQL and brings them into the window of base/inputs.py."""

import importlib
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DataError, connection
from django.urls import reverse

from api.keys import create_api_key
from conversations import journal
from conversations.models import Event
from conversations.repair import repair_stored_bounds
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

YEAR_ZERO = "0001-01-01 00:00:00+14"  # accepted by the API once: year 0 (1 BC) in UTC
STORED_AS = "0001-12-31 10:00:00+00 BC"  # what PostgreSQL says it holds


def sql(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else None


def stored_occurred_at(event):
    return sql("SELECT occurred_at::text FROM conversations_event WHERE id = %s", [event.pk])[0][0]


def message(customer, body="Is the T900 in stock?", **fields):
    return journal.record(
        customer=customer, channel="sms", kind="message", direction="in", body=body, **fields
    )


def store_out_of_bounds(event, value=YEAR_ZERO):
    """What the API stored before it checked: no Python datetime can carry it."""
    sql(
        "UPDATE conversations_event SET occurred_at = %s::timestamptz WHERE id = %s",
        [value, event.pk],
    )


@pytest.fixture
def year_zero_event():
    """A customer's first event, sent by the shop stamped 0001-01-01T00:00:00+14:00: the
    event and its conversation's summary times (the latest event's) hold year 0."""
    event = message(CustomerFactory(display_name="Ana"))
    store_out_of_bounds(event)
    sql(
        """UPDATE conversations_conversation
        SET last_event_at = %s::timestamptz, last_inbound_at = %s::timestamptz WHERE id = %s""",
        [YEAR_ZERO, YEAR_ZERO, event.conversation_id],
    )
    return event


def pages(event):
    conversation = event.conversation
    key = create_api_key(name="Shop")[1]
    api = {"headers": {"Authorization": f"Bearer {key}"}}
    customer = conversation.customer_id
    return {
        "API customer": (f"/api/v1/customers/{customer}", api),
        "API timeline": (f"/api/v1/customers/{customer}/timeline", api),
        "conversation page": (
            reverse("admin:conversations_conversation_change", args=[conversation.pk]),
            {},
        ),
        "inbox": (reverse("admin:conversations_inbox"), {}),
        "conversation list": (reverse("admin:conversations_conversation_changelist"), {}),
    }


PAGES = ["API customer", "API timeline", "conversation page", "inbox", "conversation list"]


@pytest.mark.parametrize("page", PAGES)
def test_a_page_that_failed_on_a_stored_year_zero_works_after_the_repair(
    client, agent, year_zero_event, page
):
    client.force_login(agent)
    url, options = pages(year_zero_event)[page]
    # given: the page fails on the row as stored (psycopg cannot make it a datetime)
    with pytest.raises(DataError):
        client.get(url, **options)

    repair_stored_bounds()

    assert client.get(url, **options).status_code == 200


def test_the_event_takes_its_recorded_time_and_keeps_what_was_stored(year_zero_event):
    repaired = repair_stored_bounds()

    event = Event.objects.get(pk=year_zero_event.pk)
    assert repaired == {
        "conversations_event.occurred_at": 1,
        "conversations_conversation.last_event_at": 1,
        "conversations_conversation.last_inbound_at": 1,
    }
    assert event.occurred_at == event.recorded_at
    assert event.data["quarantine"] == {"occurred_at": STORED_AS}
    assert event.body == "Is the T900 in stock?"
    conversation = event.conversation
    assert conversation.last_event_at == conversation.last_inbound_at == event.occurred_at


def test_a_second_run_repairs_nothing_and_changes_nothing(year_zero_event):
    repair_stored_bounds()
    before = sql("SELECT id, occurred_at, data::text FROM conversations_event ORDER BY id")

    assert repair_stored_bounds() == {}
    assert sql("SELECT id, occurred_at, data::text FROM conversations_event ORDER BY id") == before


def test_the_window_is_2000_to_a_few_minutes_after_the_event_was_recorded():
    customer = CustomerFactory()
    events = {name: message(customer, body=name) for name in ["1999", "2000", "ahead", "skew"]}
    sql(
        """UPDATE conversations_event SET occurred_at = CASE body
            WHEN '1999' THEN '1999-12-31 23:59:59+00'::timestamptz
            WHEN '2000' THEN '2000-01-01 00:00:00+00'::timestamptz
            WHEN 'ahead' THEN recorded_at + interval '6 minutes'
            WHEN 'skew' THEN recorded_at + interval '4 minutes' END
        WHERE conversation_id = %s""",
        [customer.conversation.pk],
    )

    # one id per batch: the ranges cover every row
    assert repair_stored_bounds(batch_size=1) == {"conversations_event.occurred_at": 2}

    kept = {e.body: e for e in Event.objects.filter(conversation=customer.conversation)}
    assert set(kept["1999"].data["quarantine"]) == {"occurred_at"}
    assert kept["ahead"].occurred_at == kept["ahead"].recorded_at
    assert "quarantine" not in kept["2000"].data and "quarantine" not in kept["skew"].data
    assert kept["skew"].occurred_at - kept["skew"].recorded_at == timedelta(minutes=4)
    assert events["2000"].pk == kept["2000"].pk


def test_other_tables_take_the_rows_recorded_time_or_the_time_of_the_repair(year_zero_event):
    customer = year_zero_event.conversation.customer
    sql(
        """INSERT INTO commerce_cart (customer_id, external_id, status, currency, value,
            item_count, created_at, updated_at, ordered_at)
        VALUES (%s, 'c-1', 'ordered', 'USD', 10, 0, %s::timestamptz, now(), 'infinity')""",
        [customer.pk, YEAR_ZERO],
    )
    sql(
        "UPDATE conversations_case SET opened_at = '1970-01-01Z' WHERE conversation_id = %s",
        [customer.conversation.pk],
    )

    repaired = repair_stored_bounds()

    assert repaired == {
        "commerce_cart.created_at": 1,
        "commerce_cart.ordered_at": 1,
        "conversations_case.opened_at": 1,
        "conversations_conversation.last_event_at": 1,
        "conversations_conversation.last_inbound_at": 1,
        "conversations_event.occurred_at": 1,
    }
    ((created, updated, ordered),) = sql(
        "SELECT created_at, updated_at, ordered_at FROM commerce_cart WHERE external_id = 'c-1'"
    )
    assert created == updated == ordered  # the cart's own update time
    ((opened,),) = sql("SELECT opened_at FROM conversations_case")
    assert opened.year >= 2026  # no recorded time of its own: the time of the repair


def test_the_command_prints_what_it_repaired_and_the_migration_runs_the_same(year_zero_event):
    out = StringIO()

    call_command("repair_stored_bounds", "--batch-size", "1", stdout=out)

    assert "conversations_event: 1 ids checked, 1 rows repaired" in out.getvalue()
    assert out.getvalue().strip().endswith("conversations_event.occurred_at: 1")
    # the migration, on what another installation stored
    store_out_of_bounds(year_zero_event, "9999-12-31 23:59:59-14")
    migration = importlib.import_module("conversations.migrations.0009_repair_stored_bounds")
    migration.repair(apps=None, schema_editor=None)
    assert (
        stored_occurred_at(year_zero_event)
        == sql(
            "SELECT recorded_at::text FROM conversations_event WHERE id = %s", [year_zero_event.pk]
        )[0][0]
    )
    assert Event.objects.get(pk=year_zero_event.pk).data["quarantine"] == {
        "occurred_at": "10000-01-01 13:59:59+00"  # the first value is overwritten: see docs
    }
