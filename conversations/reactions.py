"""Reactions: the work an event sets off that its sender need not wait for.

Routing, nudge attribution and outcome tracking read several rows for every inbound event.
Run inline they would multiply the time a webhook takes to answer Twilio, so the journal
hands them over instead. After commit, the event's id goes onto a Redis stream (an XADD
of the id alone, in the live broadcast's round trip: `handover`); `python manage.py react`
processes read it as a
consumer group, load the events and call each THROUGHLINE_EVENT_REACTIONS function with
each one, then acknowledge. Several `react` processes share the work; entries a crashed
process had claimed go to another after REACTIONS_CLAIM_IDLE_SECONDS.

THROUGHLINE_REACTIONS_MODE says where reactions run: "stream" (production, `make run`),
or "inline" (after commit in the recording process, as THROUGHLINE_EVENT_HOOKS do; the
tests' default, so a test sees the reaction of what it records). If Redis cannot take the
id, the event is still recorded and broadcast clients resync; routing's sweeps pick up a
case that missed its routing (docs/subsystems/reactions.md).

A reaction that raises on an event never holds up the others: the failure is written as a
`ParkedReaction` and the stream entry acknowledged; `react` processes retry that one
reaction on that one event after RETRY_DELAYS, and after MAX_ATTEMPTS it stays parked,
with its error, for a person to replay (admin, `manage.py replay_parked`). An event that
cannot even be loaded (a stored value Python cannot read) is parked for every reaction.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from datetime import timedelta
from functools import cache

import redis
from django.conf import settings
from django.db import DataError, IntegrityError, close_old_connections, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string

from .broadcast import StreamAppend
from .edges import ascii_int
from .models import Event, ParkedReaction

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


def _registered() -> tuple[tuple[str, Callable[[Event], None]], ...]:
    return _imported(tuple(settings.THROUGHLINE_EVENT_REACTIONS))


@cache
def _imported(paths: tuple[str, ...]) -> tuple[tuple[str, Callable[[Event], None]], ...]:
    return tuple((path, import_string(path)) for path in paths)


def handover(events: list[Event]) -> StreamAppend | None:
    """In stream mode, the stream entries that hand these events to the `react` processes.

    The journal gives them to its after-commit broadcast, which sends them in the same
    round trip to Redis as the live updates. None in inline mode or with no reactions.
    """
    if not reactions() or settings.THROUGHLINE_REACTIONS_MODE != "stream":
        return None
    return StreamAppend(
        stream=_stream(),
        entries=[{"e": event.pk} for event in events],
        maxlen=settings.REACTIONS_STREAM_MAXLEN,
    )


def react_on_commit(event: Event) -> None:
    """In inline mode, run the event's reactions after commit, in this process."""
    if reactions() and settings.THROUGHLINE_REACTIONS_MODE == "inline":
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


@cache
def _client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=2)


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
    """Process what is waiting on the stream (and what dead consumers left); return how many.

    `block_ms` waits that long for new entries when there are none (the `react` loop);
    None returns at once (tests, and the command's `--once`).
    """
    consumer = consumer or consumer_name()
    close_old_connections()
    retried = retry_due(limit=count)
    _ensure_group()
    client = _client()
    # Entries another consumer claimed and never acknowledged: it died mid-way.
    idle_ms = settings.REACTIONS_CLAIM_IDLE_SECONDS * 1000
    _next, claimed, *_ = client.xautoclaim(
        _stream(), GROUP, consumer, min_idle_time=idle_ms, count=count
    )
    entries = list(claimed)
    fresh = client.xreadgroup(GROUP, consumer, {_stream(): ">"}, count=count, block=block_ms)
    for _name, stream_entries in fresh or []:
        entries.extend(stream_entries)
    if not entries:
        return retried
    close_old_connections()
    ids = {entry_id: _event_id(fields) for entry_id, fields in entries}
    events = _load({event_id for event_id in ids.values() if event_id})
    for entry_id, event_id in ids.items():
        event = events.get(event_id)
        if event is not None:  # else trimmed from the stream, or the event was erased
            run(event)
        client.xack(_stream(), GROUP, entry_id)
    return retried + len(entries)


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
