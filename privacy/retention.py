"""Retention: message bodies, recordings and transcripts are kept PRIVACY_RETENTION_DAYS.

`redact_expired(batch_size, max_batches)` empties what is older (the events stay, with
`data.redacted`, so the timeline's outline and every figure remain). The sweep reads the
partial index `privacy_event_retention_idx` (migration 0002), which holds only events not
redacted yet, so each run costs what is due, not the size of the journal. The journal is
partitioned by id (ADR 0009): the index is partitioned with it, each partition's part
holding its own due events, so a redacted old partition costs the sweep nothing.

`drop_expired_events()` removes events themselves, only when PRIVACY_EVENT_RETENTION_DAYS
is set, and only as whole partitions whose newest event is older than that: a dropped
partition costs no DELETE, no dead rows and no vacuum (conversations/partitions.py).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from conversations import partitions

logger = logging.getLogger(__name__)

# The kinds whose body or data carry what a person said (text, voice).
KINDS = ("message", "call", "voicemail")
# The data keys that hold media references, recordings and transcripts.
REDACTED_KEYS = ["media", "recording_url", "transcript"]

_REDACT_SQL = """
WITH due AS (
    SELECT id FROM conversations_event
    WHERE occurred_at < %(cutoff)s AND kind IN ('message', 'call', 'voicemail')
        AND NOT (data ? 'redacted') AND NOT (data ? 'erased')
    ORDER BY occurred_at
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
), events AS (
    UPDATE conversations_event e SET body = '',
        data = (e.data - %(keys)s::text[]) || '{"redacted": true}'::jsonb
    FROM due WHERE e.id = due.id
    RETURNING e.id
), outbox AS (
    UPDATE conversations_outbox o SET body = '', media_urls = '[]'::jsonb
    FROM events WHERE o.event_id = events.id
    RETURNING o.id
)
SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM outbox)
"""


def redact_expired(*, batch_size: int = 1000, max_batches: int = 20) -> int:
    """Redact up to batch_size x max_batches expired events; return how many.

    Each batch is its own short transaction (at most batch_size row locks, taken with
    SKIP LOCKED so two sweeps never wait on each other); 20 batches of 1,000 take a few
    seconds, and the next beat carries on where this one stopped.
    """
    days = settings.PRIVACY_RETENTION_DAYS
    if days <= 0:
        return 0  # kept for ever
    cutoff = timezone.now() - timedelta(days=days)
    total = 0
    for _ in range(max_batches):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                _REDACT_SQL, {"cutoff": cutoff, "limit": batch_size, "keys": REDACTED_KEYS}
            )
            events, _outbox = cursor.fetchone()
        total += events
        if events < batch_size:
            break
    if total:
        logger.info("retention: redacted %s events older than %s days", total, days)
    return total


def drop_expired_events():
    """Drop the journal partitions whose every event is older than
    PRIVACY_EVENT_RETENTION_DAYS (0: events are kept for ever); return what was dropped
    and kept (conversations.partitions.Dropped), or None when events are kept."""
    days = settings.PRIVACY_EVENT_RETENTION_DAYS
    if days <= 0:
        return None
    result = partitions.drop_partitions_before(timezone.now() - timedelta(days=days))
    if result.dropped:
        logger.info("retention: dropped journal partitions %s", ", ".join(result.dropped))
    return result
