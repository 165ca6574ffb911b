"""Part 3 of `python -m bench.journal`: the after-commit broadcast of one event against a
raw PUBLISH of as many bytes (bench/journal.py's docstring says what each figure means).

Imported by bench/journal.py after it has set Django up.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

import redis
from channels.layers import get_channel_layer
from channels_redis.utils import decode_hosts
from django.conf import settings
from django.db import transaction
from django.test import TestCase

from bench import median, verdict
from conversations import broadcast, journal
from conversations.models import Conversation, Customer, Event

PUBLISH_REPEATS = 2_000
RECORD_PAIRS = 300  # record with and without the broadcast, alternating, in this process


def _record(customer: Customer, body: str) -> Event:
    return journal.record(
        customer=customer,
        channel=Event.Channel.WEB,
        kind="message",
        direction=Event.Direction.IN,
        body=body,
    )


@contextmanager
def _no_broadcast():
    queue_broadcast = journal.broadcast_on_commit
    journal.broadcast_on_commit = lambda event, conversation, **handover: None
    try:
        yield
    finally:
        journal.broadcast_on_commit = queue_broadcast


def bench_broadcast(customer: Customer, body: str) -> list[str]:
    event = _record(customer, body)
    conversation = Conversation.objects.get(pk=event.conversation_id)
    # The very callback record() queues for after commit, caught instead of run.
    with transaction.atomic():
        with TestCase.captureOnCommitCallbacks() as callbacks:
            broadcast.broadcast_on_commit(event, conversation)
        transaction.set_rollback(True)
    (publish_event,) = callbacks

    # The floors: payloads of the same size, serialised once, over a connection already open.
    layer = get_channel_layer()
    config = settings.CHANNEL_LAYERS["default"]["CONFIG"]
    payloads = [
        (f"{config['prefix']}__group__{group}", layer.serialize(message))
        for group, message in [
            (
                broadcast.conversation_group(event.conversation_id),
                {"type": "journal.event", "event": broadcast.event_payload(event)},
            ),
            (
                broadcast.INBOX_GROUP,
                {"type": "inbox.update", "conversation": broadcast.inbox_payload(conversation)},
            ),
        ]
    ]
    whole = (payloads[0][0], b"".join(payload for _, payload in payloads))
    raw = redis.Redis.from_url(decode_hosts(config["hosts"])[0]["address"])
    raw.ping()

    def publish_raw() -> None:
        raw.publish(*whole)

    def publish_raw_each() -> None:
        for channel, payload in payloads:
            raw.publish(channel, payload)

    pools = [client.connection_pool for client in broadcast.publisher._shards()]
    opened_before = sum(pool._created_connections for pool in pools)
    times = {publish_event: [], publish_raw: [], publish_raw_each: []}
    for repeat in range(PUBLISH_REPEATS + 100):
        order = list(times)[repeat % 3 :] + list(times)[: repeat % 3]
        for publish in order:
            started = time.perf_counter()
            publish()
            if repeat >= 100:
                times[publish].append(time.perf_counter() - started)
    opened = sum(pool._created_connections for pool in pools) - opened_before

    # What the broadcast adds to a whole record(), in pairs so the noise cancels; and the
    # raw PUBLISH in the same place (right after database work, a socket waits longer).
    added, raw_after_record = [], []
    for repeat in range(RECORD_PAIRS + 20):
        started = time.perf_counter()
        _record(customer, body)
        loud = time.perf_counter() - started
        with _no_broadcast():
            started = time.perf_counter()
            _record(customer, body)
            quiet = time.perf_counter() - started
        started = time.perf_counter()
        publish_raw()
        if repeat >= 20:
            added.append(loud - quiet)
            raw_after_record.append(time.perf_counter() - started)
    raw.close()

    event_us, raw_us, each_us = (median(times[f]) * 1e6 for f in times)
    sizes = " + ".join(str(len(payload)) for _, payload in payloads)
    print(
        f"broadcast of one event ({len(payloads)} messages, {sizes} bytes), "
        f"median of {PUBLISH_REPEATS}: after-commit publish {event_us:.0f} us; "
        f"raw PUBLISH of all {len(whole[1])} bytes {raw_us:.0f} us; "
        f"raw PUBLISH of each message {each_us:.0f} us (ratio {event_us / each_us:.2f})\n"
        f"  Redis connections opened by {PUBLISH_REPEATS + 100} publishes: {opened}; "
        f"record() with broadcast minus without, median of {RECORD_PAIRS} pairs: "
        f"{median(added) * 1e6:.0f} us (the raw PUBLISH of all bytes right after a record(): "
        f"{median(raw_after_record) * 1e6:.0f} us)",
        flush=True,
    )
    return [
        verdict("journal.broadcast_ratio", event_us / raw_us, at_most=3),
        verdict("journal.broadcast_new_connections", opened, at_most=0),
    ]
