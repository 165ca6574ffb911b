"""Merge provenance (docs/subsystems/identities.md); the split that undoes a merge reads
it back (conversations/splits.py).

A merge (`identities.merge_customers`) writes a `Merge` row first, then moves each table
with one statement that also records what it moved in `MergeMove` (a data-modifying CTE:
the `UPDATE … RETURNING` feeds the `INSERT`). Other apps' merge hooks do the same through
`move_customer_rows`, `move_rows`, `change_rows` and `remove_rows`, finding the merge in
progress with `in_progress(survivor, merged)`.

Tables are named by their `db_table` and rows by id only: the events table may be
partitioned, so nothing here holds a foreign key to an event.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from functools import cache
from typing import Any

from django.apps import apps
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models

from conversations.models import Conversation, Customer, Event, Merge, MergeMove

MOVES = MergeMove._meta.db_table
EVENTS = Event._meta.db_table
# Every provenance statement ends in this INSERT, fed by the CTE that moved the rows.
RECORD = (
    f"INSERT INTO {MOVES} (merge_id, table_name, row_id, action, column_name, "
    "from_customer, from_value, old_position, before, after)"
)
# What a merge overwrites on the customers and the conversations, kept to undo it.
_CUSTOMER_FIELDS = ("display_name", "traits", "locale", "time_zone")
_SUMMARY_FIELDS = (
    "last_event_at",
    "last_inbound_at",
    "last_outbound_at",
    "last_channel",
    "unread_count",
)
# Listed post-merge events are parked above every real seq, then renumbered (deferred
# unique constraint); seq is a 32-bit integer.
_PARKED = 1_000_000_000


class NotSplittable(ValueError):
    """An unmerge that cannot be done as asked (an event that is not the survivor's, say)."""


def _table(model_or_table: type[models.Model] | str) -> str:
    if isinstance(model_or_table, str):
        return model_or_table
    return model_or_table._meta.db_table


@cache
def _pk(table: str) -> str:
    """The primary key column of one of our tables (some facts are keyed by their event)."""
    for model in apps.get_models():
        if model._meta.db_table == table:
            return model._meta.pk.column
    raise LookupError(f"No model has the table {table}")


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


class _Exact(DjangoJSONEncoder):
    def default(self, o):
        if isinstance(o, datetime):
            return o.isoformat()  # to the microsecond (DjangoJSONEncoder stops at the milli)
        return super().default(o)


def _jsonable(values: dict) -> dict:
    return json.loads(json.dumps(values, cls=_Exact))


# ---------------------------------------------------------------------------- recording


def begin(
    *,
    survivor: Customer,
    merged: Customer,
    keep: Conversation,
    gone: Conversation,
    reason: str,
) -> Merge:
    """The merge's own row, written before anything moves (both rows locked by the caller)."""
    before = {
        "survivor": {f: getattr(survivor, f) for f in _CUSTOMER_FIELDS},
        "merged": {f: getattr(merged, f) for f in _CUSTOMER_FIELDS},
        "keep": {f: getattr(keep, f) for f in _SUMMARY_FIELDS},
        "gone": {f: getattr(gone, f) for f in _SUMMARY_FIELDS},
        "conversations": {"keep": keep.pk, "gone": gone.pk},
    }
    return Merge.objects.create(
        survivor=survivor, merged=merged, reason=reason[:200], before=_jsonable(before)
    )


def in_progress(survivor: Customer, merged: Customer) -> Merge:
    """The merge of this pair now running (for merge hooks, inside its transaction)."""
    return Merge.objects.filter(survivor=survivor, merged=merged, unmerged_at=None).latest("pk")


def move_rows(
    merge: Merge,
    model_or_table: type[models.Model] | str,
    column: str,
    *,
    from_value: int,
    to_value: int,
) -> int:
    """Point every row whose `column` is `from_value` at `to_value`, recording each one.

    `column` holds a customer id, or a conversation id when its name says "conversation"
    (unmerge reads it back by that rule). One statement; returns how many rows moved.
    """
    table = _table(model_or_table)
    sql = f"""
    WITH moved AS (
        UPDATE {_q(table)} SET {_q(column)} = %(to)s WHERE {_q(column)} = %(from)s
        RETURNING {_q(_pk(table))} AS row_id
    )
    {RECORD}
    SELECT %(merge)s, %(table)s, row_id, 'moved', %(column)s, %(customer)s, %(from)s,
        NULL, NULL, NULL
    FROM moved
    """  # noqa: S608 - table and column names come from our models
    params: dict[str, Any] = {
        "to": to_value,
        "from": from_value,
        "merge": merge.pk,
        "table": table,
        "column": column,
        "customer": merge.merged_id,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def move_customer_rows(merge: Merge, model: type[models.Model], column: str = "customer_id") -> int:
    """The common hook: the merged customer's rows of `model` now belong to the survivor."""
    return move_rows(merge, model, column, from_value=merge.merged_id, to_value=merge.survivor_id)


def move_events(merge: Merge, *, gone: Conversation, keep: Conversation) -> int:
    """Move the other conversation's events, keeping each one's seq as its old position."""
    sql = f"""
    WITH moved AS (
        UPDATE {EVENTS} SET conversation_id = %(keep)s WHERE conversation_id = %(gone)s
        RETURNING id, seq
    )
    {RECORD}
    SELECT %(merge)s, %(table)s, id, 'moved', 'conversation_id', %(customer)s, %(gone)s, seq,
        NULL, NULL
    FROM moved
    """  # noqa: S608
    params: dict[str, Any] = {
        "keep": keep.pk,
        "gone": gone.pk,
        "merge": merge.pk,
        "table": EVENTS,
        "customer": merge.merged_id,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def renumber_timeline(merge: Merge, keep: Conversation) -> None:
    """Renumber the survivor's timeline by `occurred_at`; its own events whose seq changes
    keep their old one (the moved events' was kept as they moved)."""
    sql = f"""
    WITH ordered AS (
        SELECT id, seq, row_number() OVER (ORDER BY occurred_at, id) AS position
        FROM {EVENTS} WHERE conversation_id = %(keep)s
    ), renumbered AS (
        UPDATE {EVENTS} AS e SET seq = o.position FROM ordered o
        WHERE e.id = o.id AND e.conversation_id = %(keep)s AND e.seq <> o.position
        RETURNING e.id, o.seq AS old_seq
    )
    {RECORD}
    SELECT %(merge)s, %(table)s, r.id, 'renumbered', 'seq', %(customer)s, %(keep)s, r.old_seq,
        NULL, NULL
    FROM renumbered r
    WHERE NOT EXISTS (
        SELECT 1 FROM {MOVES} m WHERE m.merge_id = %(merge)s AND m.table_name = %(table)s
        AND m.action = 'moved' AND m.row_id = r.id
    )
    """  # noqa: S608
    params: dict[str, Any] = {
        "keep": keep.pk,
        "merge": merge.pk,
        "table": EVENTS,
        "customer": merge.survivor_id,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _object(columns: Iterable[str], alias: str) -> str:
    return "jsonb_build_object(" + ", ".join(f"'{c}', {alias}.{_q(c)}" for c in columns) + ")"


def change_rows(
    merge: Merge,
    model_or_table: type[models.Model] | str,
    *,
    ids: list[int],
    values: dict[str, Any],
    from_customer: int,
) -> int:
    """Set `values` on the rows `ids`, recording the columns before and after (one statement)."""
    table = _table(model_or_table)
    columns = list(values)
    assignments = ", ".join(f"{_q(c)} = %(v_{c})s" for c in columns)
    pk = _q(_pk(table))
    sql = f"""
    WITH before AS (
        SELECT {pk} AS row_id, {_object(columns, "t")} AS old FROM {_q(table)} t
        WHERE {pk} = ANY(%(ids)s) FOR UPDATE
    ), changed AS (
        UPDATE {_q(table)} AS t SET {assignments} FROM before WHERE t.{pk} = before.row_id
        RETURNING before.row_id, before.old, {_object(columns, "t")} AS new
    )
    {RECORD}
    SELECT %(merge)s, %(table)s, row_id, 'changed', '', %(customer)s, NULL, NULL, old, new
    FROM changed
    """  # noqa: S608
    params: dict[str, Any] = {f"v_{c}": v for c, v in values.items()} | {
        "ids": list(ids),
        "merge": merge.pk,
        "table": table,
        "customer": from_customer,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def remove_rows(
    merge: Merge,
    model_or_table: type[models.Model] | str,
    column: str,
    *,
    value: int,
) -> int:
    """Delete the rows whose `column` is `value`, keeping each whole row to put it back."""
    table = _table(model_or_table)
    sql = f"""
    WITH gone AS (DELETE FROM {_q(table)} WHERE {_q(column)} = %(value)s RETURNING *)
    {RECORD}
    SELECT %(merge)s, %(table)s, gone.{_q(_pk(table))}, 'removed', %(column)s, %(customer)s,
        %(value)s, NULL, to_jsonb(gone), NULL
    FROM gone
    """  # noqa: S608
    params: dict[str, Any] = {
        "value": value,
        "merge": merge.pk,
        "table": table,
        "column": column,
        "customer": merge.merged_id,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def erase(customer: Customer, counts: dict[str, int]) -> None:
    """An erasure hook (PRIVACY_ERASURE_HOOKS): the names and traits a merge kept to undo
    itself go with the customer's other personal data (a later split keeps the survivor's
    current ones). The rows' provenance holds ids, positions and non-personal columns."""
    with connection.cursor() as cursor:
        cursor.execute(
            """UPDATE conversations_merge SET before = before - 'survivor' - 'merged'
            WHERE (survivor_id = ANY(%(tree)s) OR merged_id = ANY(%(tree)s))
                AND (before ? 'survivor' OR before ? 'merged')""",
            {"tree": customer_tree(customer.pk)},
        )
        counts["merge snapshots"] = cursor.rowcount


def customer_tree(customer_id: int) -> list[int]:
    """The customer and every customer merged into them, at any depth."""
    with connection.cursor() as cursor:
        cursor.execute(
            """WITH RECURSIVE tree(id) AS (
                SELECT %s::bigint
                UNION SELECT c.id FROM conversations_customer c
                    JOIN tree ON c.merged_into_id = tree.id
            ) SELECT id FROM tree""",
            [customer_id],
        )
        return [pk for (pk,) in cursor.fetchall()]
