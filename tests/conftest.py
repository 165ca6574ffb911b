"""Shared fixtures: three personas, a real Redis broadcast listener, thread helpers."""

from __future__ import annotations

import contextlib
import os
import threading
import time
import uuid
from urllib.parse import quote

import pytest
import redis
from django.conf import settings
from django.db import connection, connections

from tests import database_reuse, quick_flush


def pytest_configure(config):
    # Every pytest process (the serial run, or each xdist worker) has its own key prefix
    # on the one Redis database REDIS_URL names, so workers, other checkouts and other
    # runs share that database without meeting: the channel layer's groups, the Celery
    # queue (tasks enqueued by one worker, outbox deliveries, never reach another's
    # Celery worker), the reactions stream and the counters all live under it.
    prefix = f"test{uuid.uuid4().hex[:8]}"
    settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = prefix
    settings.CELERY_TASK_DEFAULT_QUEUE = prefix
    settings.THROUGHLINE_REACTIONS_STREAM = f"{prefix}:reactions"
    settings.API_RATE_LIMIT_PREFIX = f"{prefix}:ratelimit"
    quick_flush.install()


@pytest.hookimpl(trylast=True)  # after pytest-django's order (transactional tests last)
def pytest_collection_modifyitems(items):
    """The longest tests first: the ones marked `long` and those of a live server (tests/
    live_server.py). pytest-xdist hands each worker a share of this list in order and the
    idle one takes work from the end of another's, so a long test left to the end would
    be a tail only one core works on. Otherwise the order is unchanged (a stable sort).
    No test depends on it: a kept database is flushed at the start, as a transactional
    test's is at its end."""
    items.sort(
        key=lambda item: (
            not (item.get_closest_marker("long") or "live_servers" in item.fixturenames)
        )
    )


def pytest_unconfigure(config):
    # Drop what no worker consumed, so sessions leave no queues behind on the shared Redis.
    queue = getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "")
    if queue.startswith("test"):
        with contextlib.suppress(redis.RedisError, ValueError):
            redis.Redis.from_url(settings.REDIS_URL).delete(
                queue,
                f"_kombu.binding.{queue}",  # what a Celery worker on the queue declared
                f"_kombu.binding_permanent.{queue}",
                settings.THROUGHLINE_REACTIONS_STREAM,
            )


@pytest.fixture(scope="session")
def django_db_createdb(request, django_db_modify_db_settings, django_db_blocker):
    """Rebuild the kept test database when its migrations changed (tests/database_reuse.py)."""
    return database_reuse.must_create(request.config, django_db_blocker)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, request, django_db_blocker):
    database_reuse.after_setup(request.config, django_db_blocker)


@pytest.fixture(scope="session")
def live_servers(tmp_path_factory, django_db_blocker):
    """This pytest process's live servers (daphne), kept from test to test: the browser
    tests' and the load journey's (tests/live_server.py)."""
    from tests.live_server import LiveServers  # it imports this module

    servers = LiveServers(tmp_path_factory.mktemp("live-servers"))
    yield servers
    with django_db_blocker.unblock():  # it waits for the servers' database sessions to end
        servers.stop_all()


@pytest.fixture(autouse=True)
def _fresh_address_limits(settings):
    """Every test starts with untouched per-address limits (they all come from 127.0.0.1);
    tests of the limits set their own numbers."""
    settings.ADDRESS_RATE_LIMIT_PREFIX = f"test-addr-{uuid.uuid4().hex[:12]}"


def in_group(user, name: str):
    """Put a user in one of the console's roles ("Agents", "Managers"; migration 0006)."""
    from console.roles import ensure_roles

    # ensure_roles, not a lookup: a transactional test's flush drops the migration's groups
    user.groups.add(ensure_roles()[name])
    return user


@pytest.fixture
def agent(django_user_model):
    user = django_user_model.objects.create_user("alice", password="pw-alice", is_staff=True)
    return in_group(user, "Agents")


@pytest.fixture
def teammate(django_user_model):
    user = django_user_model.objects.create_user("bob", password="pw-bob", is_staff=True)
    return in_group(user, "Agents")


@pytest.fixture
def outsider(django_user_model):
    return django_user_model.objects.create_user("charlie", password="pw-charlie")


class BroadcastListener:
    """Subscribes to every Channels group through real Redis and keeps what arrives."""

    def __init__(self):
        config = settings.CHANNEL_LAYERS["default"]["CONFIG"]
        self.prefix = f"{config['prefix']}__group__"
        self.client = redis.Redis.from_url(config["hosts"][0])
        self.pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        self.pubsub.psubscribe(self.prefix + "*")
        self.pubsub.get_message(timeout=1)  # the subscription confirmation

    def collect(self, seconds: float = 0.5) -> list[tuple[str, dict]]:
        from channels.layers import get_channel_layer

        layer = get_channel_layer()
        received, deadline = [], time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            message = self.pubsub.get_message(timeout=left)
            if message:
                group = message["channel"].decode().removeprefix(self.prefix)
                received.append((group, layer.deserialize(message["data"])))
        return received

    def close(self):
        self.pubsub.close()
        self.client.close()


@pytest.fixture
def broadcasts():
    listener = BroadcastListener()
    yield listener
    listener.close()


def subprocess_env(**extra) -> dict:
    """The environment for another process (a server, a worker, a script) that must use
    this test session's database, Redis and channel-layer prefix."""
    db = connection.settings_dict
    host = db["OPTIONS"].get("host") or db["HOST"]
    if host.startswith("/"):
        url = f"postgres://{db['USER']}@/{db['NAME']}?host={quote(host)}"
    else:
        url = f"postgres://{db['USER']}@{host}:{db['PORT'] or 5432}/{db['NAME']}"
    return {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": settings.REDIS_URL,
        "CHANNEL_PREFIX": settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"],
        "DEBUG": "true",
        "CELERY_TASK_DEFAULT_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
        # outside pytest reactions go to the stream: this worker's, not one all runs share
        "THROUGHLINE_REACTIONS_STREAM": settings.THROUGHLINE_REACTIONS_STREAM,
        "ADDRESS_RATE_LIMIT_PREFIX": settings.ADDRESS_RATE_LIMIT_PREFIX,
        "API_RATE_LIMIT_PREFIX": settings.API_RATE_LIMIT_PREFIX,
        **extra,
    }


def run_concurrently(target, args_list: list[tuple]) -> list:
    """Run target(*args) in one thread per args, released together; return results or raise."""
    barrier = threading.Barrier(len(args_list))
    results: list = [None] * len(args_list)
    errors: list = []

    def worker(i, args):
        try:
            barrier.wait()
            results[i] = target(*args)
        except BaseException as exc:  # surfaced below, in the test's thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, a)) for i, a in enumerate(args_list)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    if errors:
        raise errors[0]
    return results


@pytest.fixture
def concurrently():
    yield run_concurrently
    connection.close()
