"""The journal: the one entry point that writes events (docs/subsystems/journal.md).

Every adapter, the API, the admin and the Celery tasks call `record`. It takes the
conversation row lock, hands out the next gap-free `seq`, inserts the event, keeps the
inbox summary and the current case up to date and, after commit, broadcasts the event,
calls THROUGHLINE_EVENT_HOOKS and hands it to its reactions (reactions.py).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from datetime import datetime
from functools import cache
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from . import reactions
from .broadcast import (
    INBOX_GROUP,
    _publish_rollback_unsafe,
    broadcast_on_commit,
    conversation_group,
    event_payload,
    inbox_payload,
)
from .locks import conversation_for_update
from .models import Case, Conversation, Customer, Event

logger = logging.getLogger(__name__)

# Inbound kinds that ask something of the shop: they open a case when none is open.
NEED_KINDS = frozenset({"message", "call", "voicemail"})


def record(
    *,
    customer: Customer | None = None,
    identity: tuple[str, str] | None = None,
    channel: str,
    kind: str,
    direction: str,
    body: str = "",
    data: dict | None = None,
    source_id: str | None = None,
    occurred_at: datetime | None = None,
    author=None,
    delivery_status: str = "",
) -> Event:
    """Append one event to the customer's conversation and return it.

    Idempotent on `(channel, source_id)`: a repeat returns the original event, unchanged.
    The unique constraint finds repeats, so a first delivery costs no extra lookup.

    Give the `customer`, or for inbound traffic the sender's normalised `identity`
    (`("phone", "+14155550132")`): then a known sender costs no separate lookup (it runs
    inside the append), and a new one is created as `resolve_customer` does.
    """
    if (customer is None) == (identity is None):
        raise TypeError("record() takes a customer or an identity, not both or neither.")
    now = timezone.now()
    event = Event(
        seq=0,  # handed out under the conversation's row lock
        channel=channel,
        direction=direction,
        kind=kind,
        body=body,
        data=data or {},
        occurred_at=occurred_at or now,
        recorded_at=now,
        source_id=source_id,
        delivery_status=delivery_status,
        author=author,
    )
    if author is None or direction != Event.Direction.OUT:
        appended = _append_in_one_statement(event, customer=customer, identity=identity)
        if appended is not None:
            return appended
    if customer is None:
        # identities imports this module (merges record events): import at call time
        from .identities import resolve_customer

        customer = resolve_customer(*identity)
    return _append_under_lock(customer, event)


def _append_under_lock(customer: Customer, event: Event) -> Event:
    """The general path: lock the conversation, follow merges, open a case if needed."""
    with transaction.atomic():
        conversation = conversation_for_update(customer)
        if event.source_id is not None and (existing := _recorded(event.channel, event.source_id)):
            return existing  # a concurrent delivery committed while we waited for the lock
        event.conversation = conversation
        event.case_id = _case_for(
            conversation, direction=event.direction, kind=event.kind, now=event.recorded_at
        )
        event.seq = conversation.last_seq + 1
        if event.source_id is None:
            event.save(force_insert=True)  # nothing to collide with: seq is ours under the lock
        else:
            try:
                with transaction.atomic():
                    event.save(force_insert=True)
            except IntegrityError:
                # The same source id arrived for another customer at the same moment: answer
                # with that event and undo all this append did (such as a case it opened).
                existing = Event.objects.get(channel=event.channel, source_id=event.source_id)
                transaction.set_rollback(True)
                return existing
        _summarise(conversation, event)
        broadcast_on_commit(event, conversation)
        _run_hooks_on_commit(event)
    return event


# The common append as one statement: bump the conversation's seq and summary (its row lock
# serialises writers exactly as SELECT ... FOR NO KEY UPDATE does) and insert the event.
# No row comes back when the general path is needed: the conversation was merged away, or
# this event must open a case. See docs/subsystems/journal.md.
_APPEND_TEMPLATE = """
WITH conversation AS (
    UPDATE conversations_conversation SET
        last_seq = last_seq + 1,
        last_event_at = GREATEST(last_event_at, %(at)s),
        last_inbound_at = CASE WHEN %(inbound)s
            THEN GREATEST(last_inbound_at, %(at)s) ELSE last_inbound_at END,
        last_outbound_at = CASE WHEN %(outbound)s
            THEN GREATEST(last_outbound_at, %(at)s) ELSE last_outbound_at END,
        last_channel = CASE WHEN %(inbound)s THEN %(channel)s ELSE last_channel END,
        unread_count = unread_count + %(unread)s
    WHERE customer_id = {customer} AND status <> 'merged'
        AND (current_case_id IS NOT NULL OR NOT %(opens_case)s)
    RETURNING id, customer_id, last_seq, current_case_id, status, priority, last_channel,
        unread_count, last_inbound_at
), event AS (
    INSERT INTO conversations_event (conversation_id, seq, case_id, channel, direction, kind,
        body, data, occurred_at, recorded_at, source_id, delivery_status, author_id)
    SELECT id, last_seq, current_case_id, %(channel)s, %(direction)s, %(kind)s, %(body)s,
        %(data)s, %(at)s, %(recorded_at)s, %(source_id)s, %(delivery_status)s, NULL
    FROM conversation
    RETURNING id
)
SELECT event.id, conversation.* FROM event, conversation
"""
_APPEND_SQL = _APPEND_TEMPLATE.replace("{customer}", "%(customer)s")
# The sender's lookup inside the append: no row for an unknown sender either.
_APPEND_BY_IDENTITY_SQL = _APPEND_TEMPLATE.replace(
    "{customer}",
    "(SELECT customer_id FROM conversations_identity"
    " WHERE kind = %(identity_kind)s AND value = %(identity_value)s)",
)


def _append_in_one_statement(
    event: Event, *, customer: Customer | None, identity: tuple[str, str] | None
) -> Event | None:
    """Append in one round trip; None when the general path must do it."""
    inbound = event.direction == Event.Direction.IN
    if customer is not None:
        sql, whose = _APPEND_SQL, {"customer": customer.pk}
    else:
        sql, whose = (
            _APPEND_BY_IDENTITY_SQL,
            {"identity_kind": identity[0], "identity_value": identity[1]},
        )
    params = {
        **whose,
        "at": event.occurred_at,
        "recorded_at": event.recorded_at,
        "inbound": inbound,
        "outbound": event.direction == Event.Direction.OUT,
        "unread": int(inbound and event.kind == "message"),
        "opens_case": inbound and event.kind in NEED_KINDS,
        "channel": event.channel,
        "direction": event.direction,
        "kind": event.kind,
        "body": event.body,
        "data": Event._meta.get_field("data").get_db_prep_save(event.data, connection),
        "source_id": event.source_id,
        "delivery_status": event.delivery_status,
    }
    try:
        # Alone, the statement is its own transaction; inside a caller's, a savepoint keeps
        # a source-id collision from spoiling it.
        savepoint = transaction.atomic() if connection.in_atomic_block else nullcontext()
        with savepoint, connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
    except IntegrityError:
        # a repeat of a recorded source id (a retried webhook, or two deliveries at once)
        existing = _recorded(event.channel, event.source_id) if event.source_id else None
        if existing is None:
            raise
        return existing
    if row is None:
        return None
    event_id, *summary = row
    conversation = _summary_from_row(summary)
    event.pk, event.conversation = event_id, conversation
    event.seq, event.case_id = conversation.last_seq, conversation.current_case_id
    event._state.adding = False
    broadcast_on_commit(event, conversation)
    _run_hooks_on_commit(event)
    return event


# record_many: lock the batch's conversations in one order (customer id), so concurrent
# batches cannot deadlock on each other, then bump each one's seq and summary by its share
# of the batch in one statement. Merged conversations, and those where an event would open
# a case, are left alone (no row comes back): record() takes their events.
_LOCK_MANY_SQL = """
SELECT c.id FROM conversations_conversation c
    JOIN unnest(%(customer)s::bigint[], %(opens_case)s::boolean[]) AS b(customer_id, opens_case)
    ON b.customer_id = c.customer_id
WHERE c.status <> 'merged' AND (c.current_case_id IS NOT NULL OR NOT b.opens_case)
ORDER BY c.customer_id
FOR NO KEY UPDATE OF c
"""
_RESERVE_MANY_SQL = """
UPDATE conversations_conversation c SET
    last_seq = c.last_seq + b.n,
    last_event_at = GREATEST(c.last_event_at, b.at),
    last_inbound_at = GREATEST(c.last_inbound_at, b.inbound_at),
    last_outbound_at = GREATEST(c.last_outbound_at, b.outbound_at),
    last_channel = COALESCE(b.channel, c.last_channel),
    unread_count = c.unread_count + b.unread
FROM unnest(%(customer)s::bigint[], %(n)s::int[], %(at)s::timestamptz[],
    %(inbound_at)s::timestamptz[], %(outbound_at)s::timestamptz[], %(channel)s::text[],
    %(unread)s::int[], %(opens_case)s::boolean[])
    AS b(customer_id, n, at, inbound_at, outbound_at, channel, unread, opens_case)
WHERE b.customer_id = c.customer_id AND c.status <> 'merged'
    AND (c.current_case_id IS NOT NULL OR NOT b.opens_case)
RETURNING c.id, c.customer_id, c.last_seq, c.current_case_id, c.status, c.priority,
    c.last_channel, c.unread_count, c.last_inbound_at
"""


def record_many(items: Sequence[Mapping[str, Any]]) -> list[Event]:
    """Append many events at once; return one event per item, in the items' order.

    Each item holds `record()`'s keyword arguments. The result is what calling `record()`
    for each item in turn would give (seq in item order per conversation, a repeated
    `(channel, source_id)` answered with the original event), in a constant number of
    statements: one SELECT of already recorded source ids, one lock of the conversations
    (in customer order), one UPDATE reserving every conversation's seq range and summary,
    one multi-row INSERT. Items that need the general path (merged conversation, an event
    that opens a case, an agent's reply) go through `record()` one by one, and so does the
    whole batch when a concurrent writer inserts one of its source ids meanwhile.
    Broadcasts (one publish for the batch) and event hooks run after commit.
    """
    now = timezone.now()
    events = [
        Event(
            seq=0,
            channel=item["channel"],
            direction=item["direction"],
            kind=item["kind"],
            body=item.get("body", ""),
            data=item.get("data") or {},
            occurred_at=item.get("occurred_at") or now,
            recorded_at=now,
            source_id=item.get("source_id"),
            delivery_status=item.get("delivery_status", ""),
            author=item.get("author"),
        )
        for item in items
    ]
    results: list[Event | None] = [None] * len(items)
    try:
        with transaction.atomic():
            fallback = _append_many(items, events, results)
    except IntegrityError:
        # A concurrent writer recorded one of these source ids after our check: all of the
        # batch's work above rolled back, so record() takes every item (and finds repeats).
        results = [None] * len(items)
        fallback = list(range(len(items)))
    for index in fallback:
        results[index] = record(**items[index])
    return results  # type: ignore[return-value]  # every index is filled


def _append_many(
    items: Sequence[Mapping[str, Any]], events: list[Event], results: list[Event | None]
) -> list[int]:
    """The batched append (see record_many); return the indexes left for record()."""
    fallback: list[int] = []
    groups: dict[int, list[int]] = {}  # customer id -> indexes of its new events
    recorded = _recorded_many({(e.channel, e.source_id) for e in events if e.source_id})
    first: dict[tuple[str, str], int] = {}  # a repeat within the batch -> its first index
    repeats: list[tuple[int, int]] = []
    for index, (item, event) in enumerate(zip(items, events, strict=True)):
        key = (event.channel, event.source_id)
        if event.source_id is not None and key in recorded:
            results[index] = recorded[key]
        elif event.source_id is not None and key in first:
            repeats.append((index, first[key]))
        elif event.author_id is not None and event.direction == Event.Direction.OUT:
            fallback.append(index)  # an agent's reply: first-response time, general path
        else:
            if event.source_id is not None:
                first[key] = index
            groups.setdefault(item["customer"].pk, []).append(index)
    if groups:
        conversations = _reserve(groups, events)
        rows = []
        for customer_id, indexes in groups.items():
            conversation = conversations.get(customer_id)
            if conversation is None:
                fallback.extend(indexes)
                continue
            first_seq = conversation.last_seq - len(indexes) + 1
            for offset, index in enumerate(indexes):
                event = events[index]
                event.conversation = conversation
                event.seq = first_seq + offset
                event.case_id = conversation.current_case_id
                rows.append(event)
                results[index] = event
        if rows:
            _insert_many(rows)
            messages = []
            for event in rows:
                messages.append(
                    (
                        conversation_group(event.conversation_id),
                        {"type": "journal.event", "event": event_payload(event)},
                    )
                )
                _run_hooks_on_commit(event)
            for conversation in {
                event.conversation_id: event.conversation for event in rows
            }.values():
                messages.append(
                    (
                        INBOX_GROUP,
                        {"type": "inbox.update", "conversation": inbox_payload(conversation)},
                    )
                )
            transaction.on_commit(lambda: _publish_rollback_unsafe(messages), robust=True)
    for index, original in repeats:
        if results[original] is None:
            fallback.append(index)  # its first appearance went to record(): so does it
        else:
            results[index] = results[original]
    fallback.sort()
    return fallback


# All of a batch's events in one statement, one array per column: Django's bulk_create
# spends more time in Python preparing 500 rows than PostgreSQL spends inserting them.
_INSERT_MANY_SQL = """
INSERT INTO conversations_event (conversation_id, seq, case_id, channel, direction, kind,
    body, data, occurred_at, recorded_at, source_id, delivery_status, author_id)
SELECT conversation_id, seq, case_id, channel, direction, kind, body, data::jsonb,
    occurred_at, recorded_at, source_id, delivery_status, author_id
FROM unnest(%s::bigint[], %s::int[], %s::bigint[], %s::text[], %s::text[], %s::text[],
    %s::text[], %s::text[], %s::timestamptz[], %s::timestamptz[], %s::text[], %s::text[],
    %s::bigint[])
    AS e(conversation_id, seq, case_id, channel, direction, kind, body, data, occurred_at,
        recorded_at, source_id, delivery_status, author_id)
RETURNING conversation_id, seq, id
"""


def _insert_many(events: list[Event]) -> None:
    """Insert these events (seq and conversation set) and give each its pk."""
    encoder = Event._meta.get_field("data").encoder
    columns = [
        [e.conversation_id for e in events],
        [e.seq for e in events],
        [e.case_id for e in events],
        [e.channel for e in events],
        [e.direction for e in events],
        [e.kind for e in events],
        [e.body for e in events],
        [json.dumps(e.data, cls=encoder) for e in events],
        [e.occurred_at for e in events],
        [e.recorded_at for e in events],
        [e.source_id for e in events],
        [e.delivery_status for e in events],
        [e.author_id for e in events],
    ]
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_MANY_SQL, columns)
        ids = {(conversation_id, seq): pk for conversation_id, seq, pk in cursor.fetchall()}
    for event in events:
        event.pk = ids[(event.conversation_id, event.seq)]
        event._state.adding = False


def _recorded_many(keys: set[tuple[str, str]]) -> dict[tuple[str, str], Event]:
    """The recorded events among these (channel, source_id) pairs, in one query."""
    if not keys:
        return {}
    by_channel: dict[str, list[str]] = {}
    for channel, source_id in keys:
        by_channel.setdefault(channel, []).append(source_id)
    query = Q()
    for channel, source_ids in by_channel.items():
        query |= Q(channel=channel, source_id__in=source_ids)
    return {(e.channel, e.source_id): e for e in Event.objects.filter(query)}


def _reserve(groups: dict[int, list[int]], events: list[Event]) -> dict[int, Conversation]:
    """Lock and bump the groups' conversations; customer id -> conversation after the bump."""
    params: dict[str, list] = {
        key: []
        for key in (
            "customer", "n", "at", "inbound_at", "outbound_at", "channel", "unread", "opens_case"
        )
    }  # fmt: skip
    for customer_id, indexes in groups.items():
        group = [events[index] for index in indexes]
        inbound = [e for e in group if e.direction == Event.Direction.IN]
        outbound = [e for e in group if e.direction == Event.Direction.OUT]
        params["customer"].append(customer_id)
        params["n"].append(len(group))
        params["at"].append(max(e.occurred_at for e in group))
        params["inbound_at"].append(max((e.occurred_at for e in inbound), default=None))
        params["outbound_at"].append(max((e.occurred_at for e in outbound), default=None))
        params["channel"].append(inbound[-1].channel if inbound else None)
        params["unread"].append(sum(e.kind == "message" for e in inbound))
        params["opens_case"].append(any(e.kind in NEED_KINDS for e in inbound))
    with connection.cursor() as cursor:
        cursor.execute(_LOCK_MANY_SQL, params)
        cursor.execute(_RESERVE_MANY_SQL, params)
        rows = cursor.fetchall()
    conversations = {}
    for row in rows:
        conversation = _summary_from_row(row)
        conversations[conversation.customer_id] = conversation
    return conversations


def _summary_from_row(row) -> Conversation:
    """The conversation summary an append's RETURNING gives (for the inbox broadcast):
    id, customer_id, last_seq, current_case_id, status, priority, last_channel,
    unread_count, last_inbound_at."""
    pk, customer_id, seq, case_id, status, priority, last_channel, unread, last_in = row
    return Conversation(
        pk=pk,
        customer_id=customer_id,
        last_seq=seq,
        current_case_id=case_id,
        status=status,
        priority=priority,
        last_channel=last_channel,
        unread_count=unread,
        last_inbound_at=last_in,
    )


def _recorded(channel: str, source_id: str) -> Event | None:
    return Event.objects.filter(channel=channel, source_id=source_id).first()


def _case_for(
    conversation: Conversation, *, direction: str, kind: str, now: datetime
) -> int | None:
    """The id of the case this event belongs to, opening one when an inbound need finds none."""
    if (
        conversation.current_case_id is None
        and direction == Event.Direction.IN
        and kind in NEED_KINDS
    ):
        case = Case.objects.create(conversation=conversation, opened_at=now)
        conversation.current_case = case
        conversation.status = Conversation.Status.OPEN
        conversation.priority = case.priority
    return conversation.current_case_id


def _summarise(conversation: Conversation, event: Event) -> None:
    """Keep the inbox summary on the conversation row, so the inbox never reads events."""
    at = event.occurred_at
    conversation.last_seq = event.seq
    conversation.last_event_at = max(filter(None, [conversation.last_event_at, at]))
    if event.direction == Event.Direction.IN:
        conversation.last_inbound_at = max(filter(None, [conversation.last_inbound_at, at]))
        conversation.last_channel = event.channel
        if event.kind == "message":
            conversation.unread_count += 1
    elif event.direction == Event.Direction.OUT:
        conversation.last_outbound_at = max(filter(None, [conversation.last_outbound_at, at]))
        if event.case_id is not None and event.author_id is not None:
            # an agent's first answer on the case: the first-response time starts here
            Case.objects.filter(pk=event.case_id, first_response_at=None).update(
                first_response_at=event.recorded_at
            )
    conversation.save(
        update_fields=[
            "last_seq",
            "last_event_at",
            "last_inbound_at",
            "last_outbound_at",
            "last_channel",
            "unread_count",
            "current_case",
            "status",
            "priority",
        ]
    )


@cache
def _event_hooks() -> tuple:
    return tuple(import_string(path) for path in settings.THROUGHLINE_EVENT_HOOKS)


def _run_hooks_on_commit(event: Event) -> None:
    for hook in _event_hooks():
        transaction.on_commit(lambda hook=hook: _run_hook(hook, event), robust=True)
    reactions.react_on_commit(event)


def _run_hook(hook, event: Event) -> None:
    try:
        hook(event)
    except Exception:
        # One broken hook must not stop the others nor fail a request that already committed.
        logger.exception("event hook %s failed for event %s", hook.__qualname__, event.pk)
