"""Rows stored before the edges were strict (issue 14): found in SQL, repaired in batches.

An event accepted with `occurred_at` `0001-01-01T00:00:00+14:00` was stored as year 0 in
UTC. PostgreSQL holds it; Python's datetime cannot, so psycopg raised on every read of the
row and the customer's API page, its timeline, the console's pages and `manage.py react`
answered 500 or died. The edges now refuse times outside the window of `edges.py`
(`EARLIEST_TIME`, `MAX_CLOCK_SKEW`); this brings what is already stored into the same
window. Run by migration 0009 and by `manage.py repair_stored_bounds`; the policy is in
docs/operations.md, "Repairing stored data".

1. Every timestamp column of the project's tables (found in the database's catalogue, so
   the repair matches the schema it runs on) is out of bounds when it is not finite,
   before EARLIEST_TIME or past year 9999. The columns that copy the time of an event
   (PAST_COLUMNS) are also out of bounds more than MAX_CLOCK_SKEW ahead of now.
2. Events: `occurred_at` is out of bounds as above, or more than MAX_CLOCK_SKEW ahead of
   the event's own `recorded_at`. It is repaired to `recorded_at` (the server's clock),
   and the value as stored is kept, as PostgreSQL's text, in
   `data["quarantine"]["occurred_at"]`.
3. Other columns are repaired to the row's own recorded time (`recorded_at`,
   `updated_at` or `created_at`, the first one in bounds), else to the time of the
   repair; a conversation's summary times are first taken again from its (repaired)
   events (FROM_EVENTS). Each repair is logged with the table, the row id, the column and
   the value as stored.

Every value is compared and printed by PostgreSQL (`::text`), never read into Python.
Repaired rows are in bounds, so a second run repairs nothing. Tables are read in primary
key ranges of `batch_size`, each range one statement and one transaction: the cost is one
pass over every table with a timestamp (two over the journal: `recorded_at`, then
`occurred_at`), through the primary key index; row locks only on the rows repaired, and
nothing that blocks appends. Measured: 300k events in about 4 s (two passes), so about
40 s for a 3M-event journal, during which appends go on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

from base.inputs import EARLIEST_TIME, MAX_CLOCK_SKEW

logger = logging.getLogger(__name__)

BATCH_SIZE = 10_000  # ids per statement: some 60 ms on the journal
PROGRESS_EVERY = 50  # batches between two progress lines
QUARANTINE = "quarantine"  # the key of event.data that keeps what was stored

# Columns that take the time of an event the shop sent (commerce/ingest.py,
# engagement/hooks.py, insights/facts.py and outcomes.py): a past, never ahead of now.
PAST_COLUMNS = {
    "conversations_conversation": {"last_event_at", "last_inbound_at", "last_outbound_at"},
    "commerce_cart": {"created_at", "snapshot_at", "checkout_started_at", "ordered_at"},
    "commerce_order": {"placed_at"},
    "commerce_productinterest": {"first_viewed_at", "last_viewed_at"},
    "engagement_nudge": {"replied_at", "ordered_at", "opted_out_at"},
    "insights_contact": {"started_at", "last_at"},
    "insights_journey": {"occurred_at"},
    "insights_sentmessage": {"sent_at", "replied_at"},
    "insights_outcome": {"taken_at", "replied_at", "ordered_at", "opted_out_at", "hot_at"},
}
RECORDED = ("recorded_at", "updated_at", "created_at")  # most trusted first
# A conversation's summary times are its events' latest (journal.py): taken again from the
# events once those are repaired, when the events have one.
_LATEST = """(SELECT max(e.occurred_at) FROM conversations_event e
    WHERE e.conversation_id = conversations_conversation.id {direction})"""
FROM_EVENTS = {
    ("conversations_conversation", "last_event_at"): _LATEST.format(direction=""),
    ("conversations_conversation", "last_inbound_at"): _LATEST.format(
        direction="AND e.direction = 'in'"
    ),
    ("conversations_conversation", "last_outbound_at"): _LATEST.format(
        direction="AND e.direction = 'out'"
    ),
}
EVENTS = "conversations_event"


def repair_stored_bounds(
    *, batch_size: int = BATCH_SIZE, progress: Callable[[str], None] | None = None
) -> dict[str, int]:
    """Repair every out-of-bounds timestamp; return {"table.column": rows repaired}.

    Must run outside a transaction (in autocommit), so each batch commits on its own.
    """
    say = progress or (lambda line: None)
    params = {
        "earliest": EARLIEST_TIME,
        "skew": MAX_CLOCK_SKEW,
        "now": timezone.now(),
    }
    repaired: dict[str, int] = {}
    tables = _timestamp_columns()
    # The events first: other tables' repairs read their repaired times (FROM_EVENTS).
    for table in sorted(tables, key=lambda name: name != EVENTS):
        columns = tables[table]
        if table == EVENTS:
            others = sorted(columns - {"recorded_at", "occurred_at"})
            if "recorded_at" in columns:  # the events' own repair falls back on it
                repaired |= _repair_table(table, ["recorded_at"], columns, params, batch_size, say)
            if "occurred_at" in columns:
                repaired |= _repair_events(params, batch_size, say)
        else:
            others = sorted(columns)
        if others:
            repaired |= _repair_table(table, others, columns, params, batch_size, say)
    return {key: count for key, count in repaired.items() if count}


def _project_tables_prefixes() -> list[str]:
    from django.apps import apps

    root = Path(settings.BASE_DIR).resolve()
    return [
        config.label + "\\_%"
        for config in apps.get_app_configs()
        if Path(config.path).resolve().is_relative_to(root)
        and ".venv" not in Path(config.path).parts
    ]


def _timestamp_columns() -> dict[str, set[str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT table_name, column_name FROM information_schema.columns
            WHERE table_schema = current_schema() AND data_type = 'timestamp with time zone'
                AND table_name LIKE ANY(%s)
            ORDER BY table_name, ordinal_position""",
            [_project_tables_prefixes()],
        )
        found: dict[str, set[str]] = {}
        for table, column in cursor.fetchall():
            found.setdefault(table, set()).add(column)
    return found


def _bad(table: str, column: str, value: str | None = None) -> str:
    """SQL true when `value` (by default the column) is out of bounds for `column`; the
    bounds come as query parameters."""
    value = value or connection.ops.quote_name(column)
    sql = (
        f"(NOT isfinite({value}) OR {value} < %(earliest)s"
        f" OR {value} >= '10000-01-01 00:00:00+00'::timestamptz"
    )
    if column in PAST_COLUMNS.get(table, ()):
        sql += f" OR {value} > %(now)s::timestamptz + %(skew)s"
    return sql + ")"


def _replacement(table: str, column: str, present: set[str]) -> str:
    """SQL for the value that replaces an out-of-bounds `column`: the row's recorded
    time when that is within the column's bounds, else the time of the repair."""
    q = connection.ops.quote_name
    candidates = [q(other) for other in RECORDED if other in present and other != column]
    if (table, column) in FROM_EVENTS:
        candidates.insert(0, FROM_EVENTS[table, column])
    choices = [f"WHEN NOT {_bad(table, column, value)} THEN {value}" for value in candidates]
    return f"CASE {' '.join(choices)} ELSE %(now)s END" if choices else "%(now)s"


def _repair_table(table, columns, present, params, batch_size, say) -> dict[str, int]:
    q = connection.ops.quote_name
    pk = _integer_pk(table)
    if pk is None:  # the batches are ranges of the key; every table of ours has one
        raise ValueError(f"{table} has no integer primary key to repair it by")
    any_bad = " OR ".join(_bad(table, column) for column in columns)
    was = ", ".join(
        f"CASE WHEN {_bad(table, c)} THEN {q(c)}::text END AS {q('was_' + c)}" for c in columns
    )
    sets = ", ".join(
        f"{q(c)} = CASE WHEN {_bad(table, c)} THEN {_replacement(table, c, present)} "
        f"ELSE {q(c)} END"
        for c in columns
    )
    sql = f"""WITH bad AS (
            SELECT {q(pk)} AS pk, {was} FROM {q(table)} AS t
            WHERE {{range}} ({any_bad}) FOR NO KEY UPDATE
        )
        UPDATE {q(table)} SET {sets} FROM bad WHERE {q(table)}.{q(pk)} = bad.pk
        RETURNING bad.*"""  # noqa: S608 (names from the catalogue, quoted; values are parameters)
    counts = dict.fromkeys((f"{table}.{c}" for c in columns), 0)
    for rows in _batches(table, pk, sql, params, batch_size, say):
        for row_id, *originals in rows:
            for column, original in zip(columns, originals, strict=True):
                if original is not None:
                    counts[f"{table}.{column}"] += 1
                    logger.warning(
                        "repaired %s.%s of row %s: was %s", table, column, row_id, original
                    )
    return counts


def _repair_events(params, batch_size, say) -> dict[str, int]:
    bad = f"({_bad(EVENTS, 'occurred_at')} OR occurred_at > recorded_at + %(skew)s::interval)"
    recorded_ok = f"NOT {_bad(EVENTS, 'recorded_at')}"
    sql = f"""WITH bad AS (
            SELECT id AS pk, occurred_at::text AS was FROM conversations_event
            WHERE {{range}} {bad} FOR NO KEY UPDATE
        )
        UPDATE conversations_event SET
            occurred_at = CASE WHEN {recorded_ok} THEN recorded_at ELSE %(now)s END,
            data = (CASE WHEN jsonb_typeof(data) = 'object' THEN data
                    ELSE jsonb_build_object('value', data) END)
                || jsonb_build_object(%(key)s, coalesce(data -> %(key)s, '{{}}'::jsonb)
                    || jsonb_build_object('occurred_at', bad.was))
        FROM bad WHERE conversations_event.id = bad.pk
        RETURNING bad.pk, bad.was"""  # noqa: S608 (no input in the SQL)
    count = 0
    for rows in _batches(EVENTS, "id", sql, {**params, "key": QUARANTINE}, batch_size, say):
        for event_id, original in rows:
            count += 1
            logger.warning("quarantined occurred_at of event %s: was %s", event_id, original)
    return {f"{EVENTS}.occurred_at": count}


def _batches(table, pk, sql, params, batch_size, say):
    """Run `sql` over `table` one primary-key range at a time; yield each range's rows."""
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        if pk is None:  # no integer key to range over: the project has none such yet
            cursor.execute(sql.replace("{range}", ""), params)
            yield cursor.fetchall()
            return
        cursor.execute(f"SELECT min({q(pk)}), max({q(pk)}) FROM {q(table)}")  # noqa: S608 (quoted names)
        low, high = cursor.fetchone()
        if low is None:
            return
        ranged = sql.replace("{range}", f"{q(pk)} >= %(low)s AND {q(pk)} < %(high)s AND")
        done = 0
        for batch, start in enumerate(range(low, high + 1, batch_size), start=1):
            cursor.execute(ranged, {**params, "low": start, "high": start + batch_size})
            rows = cursor.fetchall()
            done += len(rows)
            if batch % PROGRESS_EVERY == 0:
                say(f"{table}: ids up to {start + batch_size - 1} of {high}, {done} repaired")
            yield rows
        say(f"{table}: {high - low + 1} ids checked, {done} rows repaired")


def _integer_pk(table: str) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_index i
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
            WHERE i.indrelid = %s::regclass AND i.indisprimary""",
            [connection.ops.quote_name(table)],
        )
        keys = cursor.fetchall()
    if len(keys) == 1 and keys[0][1] in ("integer", "bigint", "smallint"):
        return keys[0][0]
    return None


def describe(repaired: dict[str, int]) -> str:
    """One line for the command's and the migration's output."""
    if not repaired:
        return "stored bounds: nothing out of bounds"
    listed = ", ".join(f"{key}: {count}" for key, count in sorted(repaired.items()))
    return f"stored bounds: repaired {listed}"
