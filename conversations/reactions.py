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
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from functools import cache

import redis
from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils.module_loading import import_string

from .broadcast import StreamAppend
from .models import Event

logger = logging.getLogger(__name__)

GROUP = "reactions"


def reactions() -> tuple[Callable[[Event], None], ...]:
    return _imported(tuple(settings.THROUGHLINE_EVENT_REACTIONS))


@cache
def _imported(paths: tuple[str, ...]) -> tuple[Callable[[Event], None], ...]:
    return tuple(import_string(path) for path in paths)


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
    for reaction in reactions():
        try:
            reaction(event)
        except Exception:
            # One broken reaction must not stop the others (nor, inline, fail a request).
            logger.exception("reaction %s failed for event %s", reaction.__qualname__, event.pk)


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
        return 0
    close_old_connections()
    ids = {entry_id: int(fields[b"e"]) if fields else None for entry_id, fields in entries}
    events = Event.objects.in_bulk({event_id for event_id in ids.values() if event_id})
    for entry_id, event_id in ids.items():
        event = events.get(event_id)
        if event is not None:  # else trimmed from the stream, or the event was erased
            run(event)
        client.xack(_stream(), GROUP, entry_id)
    return len(entries)
