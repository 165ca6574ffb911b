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
import statistics
from collections.abc import Iterator, Sequence
from contextlib import contextmanager


def setup_django() -> None:
    """Configure Django the way a development run does, isolated from live users.

    With no `DATABASE_URL` / `REDIS_URL` this starts the embedded servers (settings do it).
    Broadcasts go to groups under a prefix of their own, so no socket of a `make run` on the
    same Redis sees benchmark events, and no event hook runs: each app measures its own.
    """
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["DEBUG"] = "true"
    os.environ["CHANNEL_PREFIX"] = "throughline-bench"
    os.environ["THROUGHLINE_EVENT_HOOKS"] = ""

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


def release_connections() -> None:
    """Close this process's database connections and pool (before a fork, and at the end)."""
    from django.db import connection, connections

    connections.close_all()
    connection.close_pool()


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
