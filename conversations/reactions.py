"""Reactions: the work an event sets off that its sender need not wait for.

Routing, nudge attribution and outcome tracking read several rows for every inbound event.
Run inline they would multiply the time a webhook takes to answer Twilio, so the journal
hands them over instead (docs/subsystems/reactions.md, ADR 0003):

- the hand-over is a `PendingReaction` row (a transactional outbox), written by the very
  statement that records the event: it commits with the event or not at all;
- after commit, the event's id also goes onto a Redis stream (an XADD in the live
  broadcast's send: `handover`). That entry only wakes a `react` process up
  promptly; losing it (Redis down, a trim) loses nothing;
- `python manage.py react` processes read the stream as a consumer group, claim the
  events' rows (a lease, so two processes never work on one event at once), call each
  THROUGHLINE_EVENT_REACTIONS function with each event, then delete the rows: that is the
  acknowledgement. They also catch up: rows older than REACTIONS_CATCH_UP_SECONDS that no
  live process holds (their wake-up was lost, or their process died mid-batch) are
  claimed with SKIP LOCKED and processed. The stream is trimmed only below what the group
  has acknowledged.

So a reaction runs at least once per event, and more than once only after a crash or an
expired lease: reactions are idempotent, which makes their effects exactly once.
`manage.py replay_reactions` re-derives a time range (`replay_range`, reaction_replay.py).

THROUGHLINE_REACTIONS_MODE says where reactions run: "stream" (production, `make run`),
or "inline" (after commit in the recording process, as THROUGHLINE_EVENT_HOOKS do, with no
row: the tests' default, so a test sees the reaction of what it records).

A reaction that raises on an event never holds up the others: the failure is written as a
`ParkedReaction` and the event acknowledged; `react` processes retry that one reaction on
that one event after RETRY_DELAYS, and after MAX_ATTEMPTS it stays parked, with its
error, for a person to replay (admin, `manage.py replay_parked`). An event that cannot
even be loaded (a stored value Python cannot read) is parked for every reaction.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta
from typing import cast

import redis
from django.conf import settings
from django.db import DataError, IntegrityError, close_old_connections, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string

from base import plugins
from base.inputs import ascii_int
from base.redis_client import redis_client
from conversations.broadcast import StreamAppend
from conversations.models import Event, ParkedReaction, PendingReaction

logger = logging.getLogger(__name__)

GROUP = "reactions"


# Attempt n failed: the next one waits RETRY_DELAYS[n - 1]. The last failure parks it.
RETRY_DELAYS = (
    timedelta(seconds=10),
    timedelta(minutes=1),
    timedelta(minutes=10),
    timedelta(hours=1),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
MAX_ERROR = 2000  # characters of the exception kept on the row


def reactions() -> tuple[Callable[[Event], None], ...]:
    return tuple(reaction for _path, reaction in _registered())


def _registered() -> list[tuple[str, Callable[[Event], None]]]:
    return plugins.named("event_reactions")


def handing_over() -> bool:
    """Whether recorded events get a `PendingReaction` row (stream mode, with reactions):
    the journal's append statements write it with the event."""
    return settings.THROUGHLINE_REACTIONS_MODE == "stream" and bool(reactions())


def handover(events: list[Event]) -> StreamAppend | None:
    """In stream mode, the stream entries that wake the `react` processes for these events.

    The journal gives them to its after-commit broadcast, which sends them to Redis with
    the live updates, in one send. None in inline mode or with no reactions.
    The events' rows are the hand-over; these only make it prompt.
    """
    if not handing_over():
        return None
    return StreamAppend(
        stream=_stream(),
        entries=[{"e": event.pk} for event in events],
        maxlen=settings.REACTIONS_STREAM_MAXLEN,
    )


# Set while `replay_range` re-derives old events: reactions with live-only effects (an
# acknowledgement to send now, a sequence to stop) read it to fill in, never rewind.
_replaying: ContextVar[Event | None] = ContextVar("replaying", default=None)


def replaying() -> Event | None:
    """The event being replayed by `manage.py replay_reactions`, or None (live)."""
    return _replaying.get()


@contextmanager
def replay_of(event: Event) -> Iterator[None]:
    token = _replaying.set(event)
    try:
        yield
    finally:
        _replaying.reset(token)


def react_on_commit(event: Event) -> None:
    """In inline mode, run the event's reactions after commit, in this process."""
    # the mode first: in stream mode (production) no plug lookup on record()'s path
    if settings.THROUGHLINE_REACTIONS_MODE == "inline" and reactions():
        transaction.on_commit(lambda: run(event), robust=True)


def run(event: Event) -> None:
    for path, reaction in _registered():
        _attempt(path, reaction, event)


def _attempt(path: str, reaction: Callable[[Event], None], event: Event) -> bool:
    try:
        reaction(event)
    except Exception as exc:
        # One broken reaction must not stop the others (nor, inline, fail a request):
        # it is retried later, on its own.
        logger.exception("reaction %s failed for event %s", path, event.pk)
        _failed(path, event.pk, exc)
        return False
    return True


def _failed(path: str, event_id: int, exc: BaseException) -> ParkedReaction:
    """Count a failure of `path` on the event: retry later, or park it when out of tries."""
    now = timezone.now()
    error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR]
    try:
        row, created = ParkedReaction.objects.get_or_create(
            event_id=event_id,
            reaction=path,
            defaults={
                "error": error,
                "first_failed_at": now,
                "last_failed_at": now,
                "next_attempt_at": now + RETRY_DELAYS[0],
            },
        )
    except IntegrityError:  # another consumer wrote it between the get and the create
        row, created = ParkedReaction.objects.get(event_id=event_id, reaction=path), False
    if created:
        return row
    ParkedReaction.objects.filter(pk=row.pk).update(attempts=F("attempts") + 1)
    row.refresh_from_db(fields=["attempts"])
    parked = row.attempts >= MAX_ATTEMPTS
    row.status = ParkedReaction.Status.PARKED if parked else ParkedReaction.Status.RETRYING
    row.next_attempt_at = None if parked else now + RETRY_DELAYS[row.attempts - 1]
    row.error, row.last_failed_at = error, now
    row.save(update_fields=["status", "next_attempt_at", "error", "last_failed_at"])
    if parked:
        logger.error(
            "reaction %s parked for event %s after %s attempts", path, event_id, row.attempts
        )
    return row


def replay(row: ParkedReaction) -> bool:
    """Run a failed reaction again on its event; True (and the row gone) when it worked.

    A failure counts as one more attempt; a parked row stays parked.
    """
    try:
        reaction = import_string(row.reaction)
        event = Event.objects.filter(pk=row.event_id).first()
    except Exception as exc:  # moved or removed reaction, or an event Python cannot read
        logger.exception("replaying %s for event %s failed", row.reaction, row.event_id)
        _failed(row.reaction, row.event_id, exc)
        return False
    if event is not None and not _attempt(row.reaction, reaction, event):
        return False
    ParkedReaction.objects.filter(pk=row.pk).delete()  # done, or its event no longer exists
    return True


def replay_all(rows) -> tuple[int, int]:
    """Replay these rows (a person asked: the admin's action, `replay_parked`); return
    how many worked and how many failed again."""
    results = [replay(row) for row in rows]
    return results.count(True), results.count(False)


def retry_due(*, limit: int = 100) -> int:
    """Replay the failed reactions whose next attempt is due; return how many were tried."""
    now = timezone.now()
    due = ParkedReaction.objects.filter(
        status=ParkedReaction.Status.RETRYING, next_attempt_at__lte=now
    ).order_by("next_attempt_at")[:limit]
    lease = now + timedelta(seconds=settings.REACTIONS_CLAIM_IDLE_SECONDS)
    tried = 0
    for row in due:
        claimed = ParkedReaction.objects.filter(
            pk=row.pk, status=row.status, next_attempt_at=row.next_attempt_at
        ).update(next_attempt_at=lease)  # a consumer that dies mid-way leaves it to others
        if not claimed:
            continue  # another consumer got there first
        tried += 1
        replay(row)
    return tried


# The `react` loop blocks on the stream for up to BLOCK_MS: the socket must wait longer.
BLOCK_MS = 1000


def _client() -> redis.Redis:
    return redis_client(timeout=5)


def _stream() -> str:
    return settings.THROUGHLINE_REACTIONS_STREAM


def _ensure_group() -> None:
    try:
        _client().xgroup_create(_stream(), GROUP, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def drain(*, consumer: str | None = None, block_ms: int | None = None, count: int = 100) -> int:
    """Process what is owed (due retries, forgotten hand-overs, the stream); return how many.

    `block_ms` waits that long for new stream entries when nothing else was to do (the
    `react` loop); None returns at once (tests, and the command's `--once`). The database
    work comes first: with Redis down it is done all the same, then RedisError is raised.
    """
    consumer = consumer or consumer_name()
    close_old_connections()
    done = retry_due(limit=count)
    done += catch_up(count=count)
    _ensure_group()
    client = _client()
    # Entries another consumer read and never acknowledged: it died mid-way.
    idle_ms = settings.REACTIONS_CLAIM_IDLE_SECONDS * 1000
    # redis-py types a reply as sync-or-async; this client is the synchronous one
    _next, claimed, *_ = cast(
        list, client.xautoclaim(_stream(), GROUP, consumer, min_idle_time=idle_ms, count=count)
    )
    entries = list(claimed)
    block = None if done or entries else block_ms
    fresh = cast(
        list | None,
        client.xreadgroup(GROUP, consumer, {_stream(): ">"}, count=count, block=block),
    )
    for _name, stream_entries in fresh or []:
        entries.extend(stream_entries)
    if not entries:
        return done
    ids = {event_id for _entry_id, fields in entries if (event_id := _event_id(fields)) is not None}
    done += process(_claim(ids=sorted(ids), count=len(ids)))
    # Acknowledged whatever was claimed: an id without a row is done already (or held by
    # another process, which deletes the row), and the row, not the entry, is the record.
    client.xack(_stream(), GROUP, *[entry_id for entry_id, _fields in entries])
    _trim(client)
    return done


def catch_up(*, count: int = 100) -> int:
    """Process hand-overs nobody is working on that are older than
    REACTIONS_CATCH_UP_SECONDS: their stream entry was lost (Redis down at commit, a
    trim), or the process that claimed them died and its lease ran out."""
    older_than = timezone.now() - timedelta(seconds=settings.REACTIONS_CATCH_UP_SECONDS)
    return process(_claim(older_than=older_than, count=count))


# Claim (lease) rows in one statement: SKIP LOCKED lets concurrent `react` processes
# take disjoint rows without waiting on each other; the lease keeps them off the rows
# while they work, and lets the others take them if they die.
_CLAIM_SQL = """
UPDATE conversations_pendingreaction SET claimed_until = %(lease)s
WHERE event_id IN (
    SELECT event_id FROM conversations_pendingreaction
    WHERE {which} AND (claimed_until IS NULL OR claimed_until < %(now)s)
    ORDER BY event_id LIMIT %(count)s
    FOR UPDATE SKIP LOCKED
)
RETURNING event_id
"""
_CLAIM_IDS_SQL = _CLAIM_SQL.replace("{which}", "event_id = ANY(%(ids)s)")
_CLAIM_OLD_SQL = _CLAIM_SQL.replace("{which}", "recorded_at <= %(older_than)s")


def _claim(*, ids: list[int] | None = None, older_than=None, count: int) -> list[int]:
    """Lease these events' rows (or rows older than `older_than`) that nobody holds."""
    if ids is not None and not ids:
        return []
    now = timezone.now()
    params = {
        "lease": now + timedelta(seconds=settings.REACTIONS_CLAIM_IDLE_SECONDS),
        "now": now,
        "count": count,
        "ids": ids,
        "older_than": older_than,
    }
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM_IDS_SQL if ids is not None else _CLAIM_OLD_SQL, params)
        return sorted(row[0] for row in cursor.fetchall())


def process(event_ids: list[int]) -> int:
    """Run the reactions of these claimed events, then acknowledge them (delete their
    rows): an event whose reactions all ran or were parked is done. Return how many."""
    if not event_ids:
        return 0
    events = _load(set(event_ids))
    for event_id in event_ids:
        event = events.get(event_id)
        if event is not None:  # else erased since: nothing left to react to
            run(event)
    PendingReaction.objects.filter(event_id__in=event_ids).delete()
    return len(event_ids)


def _trim(client: redis.Redis) -> None:
    """Drop the stream's entries the group has acknowledged, and only those: those below
    the oldest pending entry, or up to the last one delivered when none is pending. (A
    stream no process reads is capped by REACTIONS_STREAM_MAXLEN at XADD instead: the
    hand-over rows, not the entries, are what must not be lost.)"""
    pipe = client.pipeline(transaction=False)
    pipe.xpending(_stream(), GROUP)
    pipe.xinfo_groups(_stream())
    summary, groups = pipe.execute()
    if summary["pending"]:
        floor = summary["min"]
    else:
        ours = next((g for g in groups if g["name"] in (GROUP, GROUP.encode())), None)
        if ours is None:
            return
        last = ours["last-delivered-id"]
        millis, sequence = (last.decode() if isinstance(last, bytes) else last).split("-")
        floor = f"{millis}-{int(sequence) + 1}"  # MINID keeps the id it is given
    # exact, not "~": approximate trimming only drops whole nodes of ~100 entries
    client.xtrim(_stream(), minid=floor, approximate=False)


def _event_id(fields: dict | None) -> int | None:
    """The entry's event id; None (and a warning) for an entry that is not one of ours."""
    value = (fields or {}).get(b"e", b"")
    event_id = ascii_int(value.decode("ascii", "replace"), low=1)
    if event_id is None and fields:
        logger.warning("reactions: skipping a stream entry without an event id")
    return event_id


def _load(ids: set[int]) -> dict[int, Event]:
    """The events by id. One that cannot be read (a stored time Python cannot hold: see
    conversations/repair.py) is parked for every reaction, and the others go on."""
    try:
        return Event.objects.in_bulk(ids)
    except DataError:
        pass
    events = {}
    for event_id in sorted(ids):
        try:
            event = Event.objects.filter(pk=event_id).first()
        except DataError as exc:
            logger.error("reactions: event %s cannot be read: %s", event_id, exc)
            for path, _reaction in _registered():
                _failed(path, event_id, exc)
            continue
        if event is not None:
            events[event_id] = event
    return events
