"""Appending many events at once: `record_many` (docs/subsystems/journal.md).

The shop's events API sends batches (commerce.ingest): appending them one `record()` at a
time would cost a round trip or more per event. This module gives the same result in a
constant number of statements, and leaves to `journal.record` what needs its general
path. The journal's rules (gap-free seq, repeats answered with the original, broadcasts
and hooks after commit) are the same; only the number of statements differs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from conversations import reactions
from conversations.broadcast import (
    INBOX_GROUP,
    _publish_rollback_unsafe,
    conversation_group,
    event_payload,
    inbox_payload,
)
from conversations.journal import NEED_KINDS, _run_hooks_on_commit, _summary_from_row, record
from conversations.models import Conversation, Event

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
    last_channel = CASE WHEN b.channel IS NOT NULL
        AND (c.last_inbound_at IS NULL OR b.inbound_at >= c.last_inbound_at)
        THEN b.channel ELSE c.last_channel END,
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
    # a repeat within the batch -> its first index
    first: dict[tuple[str, str | None], int] = {}
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
            handover = reactions.handover(rows)  # every event's, in the batch's one publish
            transaction.on_commit(lambda: _publish_rollback_unsafe(messages, handover), robust=True)
    for index, original in repeats:
        if results[original] is None:
            fallback.append(index)  # its first appearance went to record(): so does it
        else:
            results[index] = results[original]
    fallback.sort()
    return fallback


# All of a batch's events in one statement, one array per column: Django's bulk_create
# spends more time in Python preparing 500 rows than PostgreSQL spends inserting them.
# The reactions' hand-over rows go in with them (`pending`: the last parameter says whether).
_INSERT_MANY_SQL = """
WITH event AS (
    INSERT INTO conversations_event (conversation_id, seq, case_id, channel, direction, kind,
        body, data, occurred_at, recorded_at, source_id, delivery_status, author_id)
    SELECT conversation_id, seq, case_id, channel, direction, kind, body, data::jsonb,
        occurred_at, recorded_at, source_id, delivery_status, author_id
    FROM unnest(%s::bigint[], %s::int[], %s::bigint[], %s::text[], %s::text[], %s::text[],
        %s::text[], %s::text[], %s::timestamptz[], %s::timestamptz[], %s::text[], %s::text[],
        %s::bigint[])
        AS e(conversation_id, seq, case_id, channel, direction, kind, body, data, occurred_at,
            recorded_at, source_id, delivery_status, author_id)
    RETURNING conversation_id, seq, id, recorded_at
), pending AS (
    INSERT INTO conversations_pendingreaction (event_id, recorded_at)
    SELECT id, recorded_at FROM event WHERE %s
)
SELECT conversation_id, seq, id FROM event
"""


def _insert_many(events: list[Event]) -> None:
    """Insert these events (seq and conversation set), with their hand-over to the
    reactions, and give each its pk."""
    encoder = Event._meta.get_field("data").encoder
    columns: list[list[Any]] = [
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
        cursor.execute(_INSERT_MANY_SQL, [*columns, reactions.handing_over()])
        ids = {(conversation_id, seq): pk for conversation_id, seq, pk in cursor.fetchall()}
    for event in events:
        event.pk = ids[(event.conversation_id, event.seq)]
        event._state.adding = False


def _recorded_many(keys: set[tuple[str, str]]) -> dict[tuple[str, str | None], Event]:
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
        # the channel of the group's latest inbound by time (max keeps the last of equals)
        latest = max(reversed(inbound), key=lambda e: e.occurred_at, default=None)
        params["channel"].append(latest.channel if latest else None)
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
