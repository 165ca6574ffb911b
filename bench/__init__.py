"""Benchmarks: one script per hot path (DESIGN.md, "Benchmarks").

`make bench` runs them all (`python -m bench`); `python -m bench.<name>` runs one. Each
script measures its own floor in the same run (the machines are shared and noisy, so only
ratios mean something), repeats enough to quote medians, and ends with one verdict line
per figure, so anyone can grep them:

    bench journal.append_ratio_1: 0.62 (target >= 0.5) ok

This module is what the scripts share: Django on a scratch database of their own, the
verdict line, and the median.
"""

from __future__ import annotations

import os
import socket
import statistics
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress

# What a benchmark run writes to Redis, apart from a deployment's on the same server.
CHANNEL_PREFIX = "throughline-bench"
REACTIONS_STREAM = "throughline-bench:reactions"


def setup_django() -> None:
    """Configure Django the way a development run does, isolated from live users.

    With no `DATABASE_URL` / `REDIS_URL` this starts the embedded servers (settings do it).
    What a `record()` of a benchmark does after commit, as in production:

    - the broadcast runs, to groups under a prefix of the run's own (CHANNEL_PREFIX and
      the run's id, THROUGHLINE_BENCH_RUN, which the servers a run starts inherit), so
      no socket of a `make run` on the same Redis sees benchmark events, nor a socket of
      another run at the same time: pub/sub ignores Redis's database number, and every
      run's first conversation is `conv.1`;
    - the reactions are handed over as in production (THROUGHLINE_REACTIONS_MODE
      "stream", pinned here): the append statement writes the event's `PendingReaction`
      row, and the after-commit XADD (in the broadcast's round trip) goes to a stream of
      their own (REACTIONS_STREAM) that no `react` process reads. The reactions
      themselves never run here and the rows stay in the scratch database
      (bench.reactions times each reaction on its own; it and bench.routing configure
      no reaction for the `record()` they time, so nothing is handed over there);
    - the event hooks the installed apps declare, as in production: today the in-store
      one (a text quoting a scan's reference joins the scan; one tuple compare for every
      other event). A THROUGHLINE_EVENT_HOOKS in the environment is dropped: an empty
      value would switch the declared hooks off (base/plugins.py).
    """
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["DEBUG"] = "true"
    run = os.environ.setdefault("THROUGHLINE_BENCH_RUN", str(os.getpid()))
    os.environ["CHANNEL_PREFIX"] = f"{CHANNEL_PREFIX}.{run}"
    os.environ["THROUGHLINE_REACTIONS_STREAM"] = REACTIONS_STREAM
    os.environ["THROUGHLINE_REACTIONS_MODE"] = "stream"  # "inline" would run them in record()
    os.environ.pop("THROUGHLINE_EVENT_HOOKS", None)

    import django
    from django.conf import settings

    django.setup()
    # DEBUG=true only picks the development settings; production cursors keep no query
    # log, so neither do ours (CaptureQueriesContext still counts queries when asked).
    settings.DEBUG = False


@contextmanager
def scratch_database(name: str) -> Iterator[str]:
    """Create database `name` on the configured server, migrate it, use it, then drop it.

    Whatever database the settings name is never touched: a leftover `name` from a crashed
    run is dropped and made again.
    """
    from django.db import connection

    connection.settings_dict["TEST"]["NAME"] = name
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        yield name
    finally:
        release_connections()
        connection.creation.destroy_test_db(old_name, verbosity=0)
        _forget_stream()


def _forget_stream() -> None:
    """Drop the run's handed-over event ids: they name rows of a database just dropped."""
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.REDIS_URL)
    with suppress(redis.RedisError):  # a failed tidy-up is no reason to fail a run
        client.delete(settings.THROUGHLINE_REACTIONS_STREAM)
    client.close()


def release_connections() -> None:
    """Close this process's database connections and pool (before a fork, and at the end)."""
    from django.db import connection, connections

    connections.close_all()
    connection.close_pool()


def free_port(first: int, last: int) -> int:
    """A free loopback port in [first, last), below 32768 (DESIGN.md, "Benchmarks"); each
    run starts looking at a different place, so parallel runs rarely race for one."""
    offset = os.getpid() % (last - first)
    for n in range(last - first):
        port = first + (offset + n) % (last - first)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {first}-{last}")


def database_url() -> str:
    """The URL of this process's (scratch) database, for the servers a benchmark starts."""
    from urllib.parse import quote

    from django.db import connection

    db = connection.settings_dict
    user = quote(db["USER"] or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    host = db["OPTIONS"].get("host") or db["HOST"] or "localhost"
    if host.startswith("/"):
        return f"postgres://{user}{password}@/{db['NAME']}?host={quote(host, safe='')}"
    return f"postgres://{user}{password}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def verdict(
    name: str, value: float, *, at_least: float | None = None, at_most: float | None = None
) -> str:
    """The one line a figure ends with: `bench <name>: <value> (target >= x) ok|short`."""
    if (at_least is None) == (at_most is None):
        raise ValueError("give exactly one of at_least and at_most")
    if at_least is not None:
        target, ok = f">= {at_least:g}", value >= at_least
    else:
        target, ok = f"<= {at_most:g}", value <= at_most
    shown = str(value) if isinstance(value, int) else f"{value:.2f}"
    return f"bench {name}: {shown} (target {target}) {'ok' if ok else 'short'}"
