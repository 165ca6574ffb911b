"""The hand-over to reactions is part of the recording transaction (issue 17).

A `PendingReaction` row commits with each event; the Redis stream only wakes `react`
up. These tests kill Redis and a `react` process in the middle of a batch, and find
every reaction run at least once and its effect there exactly once.
"""

from __future__ import annotations

import copy
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import redis
from django.db import connection

from conversations import broadcast, journal, reactions
from conversations.models import Event, PendingReaction
from tests.conftest import subprocess_env
from tests.conversations.durable_probe import RUNS_TABLE
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)

PROBE = "tests.conversations.durable_probe.count_and_answer"
DEADLINE = 120  # seconds any one wait may take on a loaded machine before the test fails


class PrivateRedis:
    """A redis-server of this test's own on a free loopback port, to kill and restart."""

    def __init__(self, directory: Path):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.directory = directory
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", str(self.directory)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        wait_for(lambda: _pings(client), "redis-server to answer")

    def kill(self) -> None:
        self.process.kill()  # SIGKILL: nothing saved (--save ''), the stream is gone
        self.process.wait(timeout=30)


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


def wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.1)


@pytest.fixture
def private_redis(tmp_path, settings, monkeypatch):
    """Point this process (and the `react` processes it starts) at a private Redis."""
    server = PrivateRedis(tmp_path)
    server.start()
    layers = copy.deepcopy(settings.CHANNEL_LAYERS)
    layers["default"]["CONFIG"]["hosts"] = [server.url]
    settings.CHANNEL_LAYERS = layers
    settings.REDIS_URL = server.url
    settings.THROUGHLINE_REACTIONS_MODE = "stream"
    settings.THROUGHLINE_EVENT_REACTIONS = [PROBE]
    # the group publisher holds its shard clients: make it again for this server
    monkeypatch.setattr(broadcast, "publisher", broadcast._GroupPublisher())
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {RUNS_TABLE} (event_id bigint PRIMARY KEY, runs int)")
    yield server
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {RUNS_TABLE}")
    if server.process.poll() is None:
        server.kill()


@pytest.fixture
def react(private_redis, settings, tmp_path):
    """Start `react` processes on the private Redis; any still running at the end is
    killed."""
    started: list[subprocess.Popen] = []

    def start(name: str, **env) -> subprocess.Popen:
        log = (tmp_path / f"{name}.log").open("w")
        process = subprocess.Popen(
            [sys.executable, "manage.py", "react"],
            env=subprocess_env(
                REDIS_URL=private_redis.url,
                THROUGHLINE_REACTIONS_MODE="stream",
                THROUGHLINE_REACTIONS_STREAM=settings.THROUGHLINE_REACTIONS_STREAM,
                THROUGHLINE_EVENT_REACTIONS=PROBE,
                REACTIONS_CLAIM_IDLE_SECONDS="2",  # a dead process's lease runs out soon
                **env,
            ),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


def text(customer, sid: str, body: str = "Is the T900 in stock?") -> Event:
    return journal.record(
        customer=customer,
        channel=Event.Channel.SMS,
        kind="message",
        direction=Event.Direction.IN,
        body=body,
        source_id=sid,
    )


def runs() -> dict[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT event_id, runs FROM {RUNS_TABLE}")  # noqa: S608
        return dict(cursor.fetchall())


def effects() -> Counter:
    return Counter(Event.objects.filter(kind="probe").values_list("source_id", flat=True))


@pytest.mark.long
def test_killing_redis_and_react_mid_batch_loses_nothing_and_repeats_no_effect(
    private_redis, react, tmp_path
):
    customer = CustomerFactory()
    before = [text(customer, "SM1"), text(customer, "SM2")]
    held = text(customer, "SM3", body="hold")
    rest = [text(customer, "SM4"), text(customer, "SM5")]
    first = [*before, held, *rest]
    assert set(PendingReaction.objects.values_list("event_id", flat=True)) == {e.pk for e in first}

    # A `react` woken by the stream (no catch-up) takes the five in one batch, runs the
    # first two, and is killed while it runs the third.
    doomed = react(
        "doomed", REACTION_PROBE_HOLD_DIR=str(tmp_path), REACTIONS_CATCH_UP_SECONDS="3600"
    )
    wait_for(lambda: (tmp_path / "held").exists(), "react to reach the held event")
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.wait(timeout=30)
    private_redis.kill()  # and Redis with it: the stream and its entries are gone
    assert runs() == {before[0].pk: 1, before[1].pk: 1, held.pk: 1}

    # Recorded while Redis is down: recorded all the same, and handed over.
    later = [text(customer, "SM6"), text(customer, "SM7"), text(customer, "SM8")]
    assert Event.objects.filter(pk__in=[e.pk for e in later]).count() == 3
    owed = set(PendingReaction.objects.values_list("event_id", flat=True))
    assert {e.pk for e in first[2:] + later} <= owed  # the killed batch was never acknowledged

    private_redis.start()  # empty: no stream entry for any of them
    survivor = react("survivor", REACTIONS_CATCH_UP_SECONDS="0")
    wait_for(lambda: not PendingReaction.objects.exists(), "every hand-over to be done")
    survivor.send_signal(signal.SIGTERM)
    assert survivor.wait(timeout=60) == 0, (tmp_path / "survivor.log").read_text()

    everything = first + later
    # every effect exactly once ...
    assert effects() == Counter({f"probe:{e.pk}": 1 for e in everything})
    # ... from at least one run each: the killed batch ran again, nothing else did
    assert runs() == {e.pk: 2 if e in (*before, held) else 1 for e in everything}


def test_an_event_recorded_while_redis_is_down_is_caught_up_without_its_stream_entry(
    private_redis, settings
):
    private_redis.kill()
    message = text(CustomerFactory(), "SM1")
    assert PendingReaction.objects.filter(event_id=message.pk).exists()
    private_redis.start()
    settings.REACTIONS_CATCH_UP_SECONDS = 3600

    assert reactions.drain() == 0  # no wake-up came, and it is not overdue yet
    settings.REACTIONS_CATCH_UP_SECONDS = 0
    assert reactions.drain() >= 1  # the message (and the probe event it set off)

    assert effects() == Counter({f"probe:{message.pk}": 1})
    assert not PendingReaction.objects.filter(event_id=message.pk).exists()


def test_the_stream_keeps_only_what_the_group_has_not_acknowledged(private_redis, settings):
    settings.THROUGHLINE_EVENT_REACTIONS = ["tests.conversations.durable_probe.nothing"]
    customer = CustomerFactory()
    client = redis.Redis.from_url(private_redis.url)
    stream = settings.THROUGHLINE_REACTIONS_STREAM
    events = [text(customer, f"SM{n}") for n in range(5)]
    assert client.xlen(stream) == 5

    assert reactions.drain(count=2) == 2  # two read and acknowledged, three not read yet
    assert client.xlen(stream) == 3
    assert list(PendingReaction.objects.values_list("event_id", flat=True)) == sorted(
        e.pk for e in events[2:]
    )

    client.xreadgroup(reactions.GROUP, "slow", {stream: ">"}, count=1)  # read, not acked
    settings.REACTIONS_CLAIM_IDLE_SECONDS = 3600
    assert reactions.drain() == 2
    assert client.xlen(stream) == 3  # what "slow" holds stays, and so what follows it
    assert list(PendingReaction.objects.values_list("event_id", flat=True)) == [events[2].pk]

    settings.REACTIONS_CLAIM_IDLE_SECONDS = 0  # "slow" died: its entry goes to another
    assert reactions.drain() == 1
    assert client.xlen(stream) == 0
    assert not PendingReaction.objects.exists()
