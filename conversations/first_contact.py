"""A new sender's first event in one statement: customer, identity, conversation, case, event.

Someone who texts or calls for the first time used to cost ten round trips or so: find
nobody, create the customer, its conversation and identity (resolve_customer), then the
general append (lock, open a case, insert, summarise). Webhooks answer Twilio while it
waits, and first contacts are a good part of a shop's traffic, so `append` writes all
five rows in one statement instead (six with the reactions' hand-over), with the ids
drawn from the tables' sequences up front (foreign keys are checked at commit, so the
rows may go in any order).

The rows are exactly those of the general path: every column this module does not set
takes its model field's default, read from the models, so a field added later is filled
as `Model.objects.create` would fill it (tests/conversations/test_first_contact.py
compares the two paths row by row). No row comes back, and nothing is written, when the
identity is known; a sender created concurrently makes the statement fail on the unique
identity, inside a savepoint. In both cases the caller takes the general path.
"""

from __future__ import annotations

from contextlib import nullcontext
from functools import cache

from django.db import IntegrityError, connection, models, transaction

from conversations import details, reactions, statements
from conversations.models import Case, Conversation, Customer, Event, Identity, PendingReaction

# Columns set from the `ids` row (the new rows' ids), per model.
_FROM_IDS = {
    Customer: {"id": "customer_id"},
    Identity: {"customer_id": "customer_id"},
    Conversation: {
        "id": "conversation_id",
        "customer_id": "customer_id",
        "current_case_id": "case_id",
    },
    Case: {"id": "case_id", "conversation_id": "conversation_id"},
    Event: {"conversation_id": "conversation_id", "case_id": "case_id"},
}
# Columns set from the call's values (`%(model__column)s`); the rest take their defaults.
_GIVEN = {
    Customer: ["created_at"],
    Identity: ["kind", "value", "created_at"],
    Conversation: [
        "status",
        "priority",
        "last_seq",
        "last_event_at",
        "last_inbound_at",
        "last_outbound_at",
        "last_channel",
        "unread_count",
        "created_at",
    ],
    Case: ["opened_at"],
    Event: [
        "seq",
        "channel",
        "direction",
        "kind",
        "body",
        "data",
        "occurred_at",
        "recorded_at",
        "source_id",
        "delivery_status",
        "author_id",
    ],
}


def _name(model: type[models.Model], column: str) -> str:
    return f"{model._meta.model_name}__{column}"


def _insert(model: type[models.Model], *, where: str = "", returning: str = "") -> str:
    columns, values = [], []
    for field in model._meta.concrete_fields:
        column = field.column
        if column in _FROM_IDS[model]:
            values.append(_FROM_IDS[model][column])
        elif field.primary_key:
            continue  # the event's id comes from its own sequence, as usual
        else:
            values.append(f"%({_name(model, column)})s")
        columns.append(column)
    table = model._meta.db_table
    return f"INSERT INTO {table} ({', '.join(columns)})\n    SELECT {', '.join(values)} FROM ids {where}{returning}"  # noqa: S608, E501 (the models' own names, no input)


# The conversation summary every append returns (journal._summary_from_row reads it).
_SUMMARY = """ RETURNING id, customer_id, last_seq, current_case_id, status, priority,
        last_channel, unread_count, last_inbound_at"""


@cache
def _statement() -> str:
    def nextval(model: type[models.Model]) -> str:
        return f"nextval(pg_get_serial_sequence('{model._meta.db_table}', 'id'))"

    return f"""
WITH ids AS (
    SELECT {nextval(Customer)} AS customer_id, {nextval(Conversation)} AS conversation_id,
        CASE WHEN %(opens_case)s THEN {nextval(Case)} END AS case_id
    WHERE NOT EXISTS (
        SELECT 1 FROM conversations_identity
        WHERE kind = %(identity__kind)s AND value = %(identity__value)s)
), customer AS (
    {_insert(Customer)}
), identity AS (
    {_insert(Identity)}
), kase AS (
    {_insert(Case, where="WHERE case_id IS NOT NULL")}
), conversation AS (
    {_insert(Conversation, returning=_SUMMARY)}
), event AS (
    {_insert(Event, returning=" RETURNING id")}
), pending AS (
    INSERT INTO {PendingReaction._meta.db_table} (event_id, recorded_at)
    SELECT id, %(event__recorded_at)s FROM event WHERE %(handover)s
)
SELECT event.id, conversation.* FROM event, conversation
"""  # noqa: S608 (built from the models' own table and column names, no input)


def _params(model: type[models.Model], given: dict) -> dict:
    """The call's values and every other column's default, as the model would save them."""
    params = {}
    for field in model._meta.concrete_fields:
        if field.primary_key or field.column in _FROM_IDS[model]:
            continue
        value = given[field.column] if field.column in given else field.get_default()
        params[_name(model, field.column)] = field.get_db_prep_save(value, connection)
    return params


def append(
    event: Event,
    *,
    identity: tuple[str, str],
    opens_case: bool,
    detail: models.Model | None = None,
):
    """Write the sender and the event (and its `detail`, conversations/details.py);
    return the append's row (event id, the conversation summary, then the detail's id),
    or None when the caller must take the general path."""
    kind, value = identity
    at, now = event.occurred_at, event.recorded_at
    inbound = event.direction == Event.Direction.IN
    params = {
        "opens_case": opens_case,
        "handover": reactions.handing_over(),  # the reactions' row, in the same statement
        **_params(Customer, {"created_at": now}),
        **_params(Identity, {"kind": kind, "value": value, "created_at": now}),
        **_params(
            Conversation,
            {
                "status": Conversation.Status.OPEN if opens_case else Conversation.Status.IDLE,
                "priority": Case.Priority.NORMAL,
                "last_seq": 1,
                "last_event_at": at,
                "last_inbound_at": at if inbound else None,
                "last_outbound_at": at if event.direction == Event.Direction.OUT else None,
                "last_channel": event.channel if inbound else "",
                "unread_count": int(inbound and event.kind == "message"),
                "created_at": now,
            },
        ),
        **_params(Case, {"opened_at": now}),
        **_params(
            Event,
            {
                "seq": 1,
                "channel": event.channel,
                "direction": event.direction,
                "kind": event.kind,
                "body": event.body,
                "data": event.data,
                "occurred_at": at,
                "recorded_at": now,
                "source_id": event.source_id,
                "delivery_status": event.delivery_status,
                "author_id": event.author_id,
            },
        ),
    }
    sql = _statement()
    if detail is not None:
        sql = details.statement(sql, type(detail))
        params.update(details.params(detail))
    try:
        # Alone, the statement is its own transaction; in a caller's, a savepoint keeps a
        # failure from spoiling it.
        savepoint = transaction.atomic() if connection.in_atomic_block else nullcontext()
        with savepoint, statements.cursor() as cursor:  # prepared, planned once
            cursor.execute(sql, params)
            return cursor.fetchone()
    except IntegrityError:
        return None  # created meanwhile by another first contact, or a repeated source id
