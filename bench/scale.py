"""The journal's figures at scale: `BENCH_JOURNAL_ROWS=5000000 python -m bench.scale`.

Do the hot paths keep their ratios when the journal is big and partitioned (ADR 0009)?

1. A scratch database, `throughline_bench_scale`, whose journal is partitioned in ranges
   of BENCH_PARTITION_SIZE ids (default: a fifth of the rows, so the load spans five
   partitions and the appends write a sixth). The ranges are made first, as the hourly
   task would have.
2. BENCH_JOURNAL_ROWS events (default 1,000,000, so that `make bench` stays short) built in
   SQL with `generate_series` by insights' seed (insights/seed.py: about 20 events per
   customer in four journeys over 60 days, with their cases and insights' facts), in
   batches of SEED_BATCH customers, never through the API; then VACUUM ANALYZE. As a
   backfill would, the load runs without foreign keys, which are added back at the end and
   checked then in one pass each (row by row at every commit they were a third of a
   batch's time), and each batch derives the facts of its own customers only (it used to
   rebuild every fact of the journal, so batches grew longer with the journal).
3. On that journal, the figures of `bench.journal` (appends against a prepared INSERT of
   the same row, the deep timeline page against a shallow one, the deep one's 10,000
   events spread over every partition as a customer of years' standing has them) and of
   `bench.insights` (each figure against a COUNT(*) of the events), printed as
   `bench scale.<name>`.

BENCH_SCALE_DATABASE=<name> keeps the database after the run, and a later run with the same
name measures the journal built there instead of building it again (the build is most of
the time at 50M). BENCH_SCALE_ROUNDS and BENCH_SCALE_REPEATS lower the insights rounds
(default 5 and 3, as bench.insights): at 50M a COUNT(*) takes seconds.

Measured on this machine (2 cores, shared): see docs/scaling.md, "Limits of one
PostgreSQL". 50M events: built in 58 minutes (53 of them the seed, at 35 to 105 s a
million events with the machine's load, the same at 2M as at 50M; the foreign keys
checked in 222 s), 10.1 GB of journal in a 22 GB database; appends 0.49 (one writer) and
0.44 (four), deep page 1.01, insights at most 2.82 (contacts; response 2.80, in store
3.27 then 2.35 once scans carried their customer, measured on the kept database after
`migrate instore`; the rest under 1.1). At that rate 1M builds in one to two minutes (not re-run).
"""

# ruff: noqa: E402  (Django must be set up before the models are imported)

from __future__ import annotations

import os

ROWS = int(os.environ.get("BENCH_JOURNAL_ROWS", "1000000"))
PARTITION_SIZE = int(os.environ.get("BENCH_PARTITION_SIZE", str(max(ROWS // 5, 10_000))))
# read by the settings when Django starts, and so by migration 0013 on the scratch database
os.environ["THROUGHLINE_JOURNAL_PARTITION_SIZE"] = str(PARTITION_SIZE)

from bench import median, release_connections, scratch_database, setup_django, verdict

setup_django()

import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from bench import insights as insights_bench
from bench import journal as journal_bench
from conversations import partitions
from conversations.identities import resolve_customer
from conversations.models import Conversation
from insights import facts, figures
from insights.filters import Filters
from insights.seed import seed_journeys

# Named, the database is kept after the run and a journal built in it before is reused.
KEPT = os.environ.get("BENCH_SCALE_DATABASE")
DATABASE = KEPT or "throughline_bench_scale"
# The figures at 50M take minutes each (a COUNT(*) is seconds there): fewer rounds.
ROUNDS = int(os.environ.get("BENCH_SCALE_ROUNDS", str(insights_bench.ROUNDS)))
REPEATS = int(os.environ.get("BENCH_SCALE_REPEATS", str(insights_bench.REPEATS)))
EVENTS_PER_CUSTOMER = 20  # what the seed writes, about: 4 journeys of 5 events
SEED_BATCH = 100_000  # customers per seed transaction, at most


def _timeline_slice(conversation_id: int, first: int, last: int, agent_id: int) -> None:
    """Seqs first..last of a conversation, in SQL, a third of them an agent's answers
    (the rows bench.journal.build_timeline writes), at one minute apart."""
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO conversations_event (conversation_id, seq, channel, direction, kind,
                body, data, occurred_at, recorded_at, delivery_status, author_id)
            SELECT %(c)s, s, CASE WHEN s %% 3 = 0 THEN 'agent' ELSE 'sms' END,
                CASE WHEN s %% 3 = 0 THEN 'out' ELSE 'in' END, 'message',
                %(body)s || ' (#' || s || ')', jsonb_build_object('segments', 1 + s %% 3),
                now() - make_interval(mins => %(deep)s - s),
                now() - make_interval(mins => %(deep)s - s),
                CASE WHEN s %% 3 = 0 THEN 'delivered' ELSE '' END,
                CASE WHEN s %% 3 = 0 THEN %(agent)s::int END
            FROM generate_series(%(first)s, %(last)s) s""",
            {
                "c": conversation_id,
                "body": journal_bench.BODY,
                "deep": journal_bench.DEEP_EVENTS,
                "agent": agent_id,
                "first": first,
                "last": last,
            },
        )
    Conversation.objects.filter(pk=conversation_id).update(
        last_seq=last, last_event_at=timezone.now()
    )


@contextmanager
def _database() -> Iterator[None]:
    if not KEPT:
        with scratch_database(DATABASE):
            yield
        return
    connection.settings_dict["TEST"]["NAME"] = DATABASE
    connection.creation.create_test_db(verbosity=0, serialize=False, keepdb=True)
    try:
        yield
    finally:
        release_connections()


@contextmanager
def _foreign_keys_checked_once() -> Iterator[None]:
    """A backfill's way with foreign keys: dropped for the load, then added back, each
    checked in one pass (a join per table) instead of row by row at every commit, which
    was a third of each seed batch's time. Nothing else writes to the scratch database."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
            FROM pg_constraint WHERE contype = 'f' AND conparentid = 0 ORDER BY oid"""
        )
        keys = cursor.fetchall()
        for table, name, _definition in keys:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    yield
    started = time.monotonic()
    with connection.cursor() as cursor:
        for table, name, definition in keys:
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    print(f"  {len(keys)} foreign keys checked in {time.monotonic() - started:.0f} s", flush=True)


def _build() -> tuple[Conversation, Conversation, list[int], list[int]]:
    """The seed, in batches; between them, a slice of the deep timeline each, so that its
    10,000 events are spread over every partition, as a customer of years' standing has
    them. The shallow one (50 events) is a recent customer's: in the newest partition.
    A journal built before in a kept database (BENCH_SCALE_DATABASE) is used as it is."""
    started = time.monotonic()
    conversations = [
        resolve_customer("external", f"bench-{n}").conversation
        for n in range(2 * journal_bench.WRITERS + 4)
    ]
    deep, shallow = conversations[-2:]
    if shallow.last_seq < journal_bench.SHALLOW_EVENTS:
        _seed(deep, shallow)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(DISTINCT tableoid) FROM conversations_event WHERE conversation_id = %s",
            [deep.pk],
        )
        (spread,) = cursor.fetchone()
    record_customers = [c.customer_id for c in conversations[: journal_bench.WRITERS + 1]]
    floor_conversations = [
        c.pk for c in conversations[journal_bench.WRITERS + 1 : 2 * journal_bench.WRITERS + 2]
    ]
    print(
        f"setup: {time.monotonic() - started:.0f} s; {_describe()}; "
        f"the deep timeline spans {spread} partitions",
        flush=True,
    )
    return deep, shallow, record_customers, floor_conversations


def _seed(deep: Conversation, shallow: Conversation) -> None:
    started = time.monotonic()
    customers = max(ROWS // EVENTS_PER_CUSTOMER, 1)
    batch = max(min(SEED_BATCH, customers // 5), 1)
    # every range the load needs, made ahead (the hourly task's job)
    partitions.create_ahead(ahead=ROWS // PARTITION_SIZE + 2, size=PARTITION_SIZE)
    agent = get_user_model().objects.create_user("bench-agent", is_staff=True)
    batches = -(-customers // batch)
    per_slice = -(-journal_bench.DEEP_EVENTS // batches)
    events, seq = 0, 0
    with connection.cursor() as cursor:
        # the seed's window functions sort a batch's events: in memory, not on disk
        cursor.execute("SET work_mem = '256MB'")
    with _foreign_keys_checked_once():
        for first in range(0, customers, batch):
            seeded = seed_journeys(customers=min(batch, customers - first), journeys=4, days=60)
            events += seeded.events
            last = min(seq + per_slice, journal_bench.DEEP_EVENTS)
            if last > seq:
                _timeline_slice(deep.pk, seq + 1, last, agent.pk)
                seq = last
            print(
                f"  seeded {events} events ({first + seeded.customers} customers) "
                f"in {time.monotonic() - started:.0f} s",
                flush=True,
            )
        _timeline_slice(shallow.pk, 1, journal_bench.SHALLOW_EVENTS, agent.pk)
        # the two timelines were written around the event hooks too
        facts.add_conversations(f"VALUES ({deep.pk}), ({shallow.pk})", first_event=0)
    with connection.cursor() as cursor:
        cursor.execute("RESET work_mem")
        cursor.execute("VACUUM ANALYZE")
    print(f"  built in {time.monotonic() - started:.0f} s", flush=True)


def _describe() -> str:
    found = partitions.partitions()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM conversations_event")
        (count,) = cursor.fetchone()
        cursor.execute(
            "SELECT pg_size_pretty(sum(pg_total_relation_size(inhrelid)))"
            " FROM pg_inherits WHERE inhparent = 'conversations_event'::regclass"
        )
        (size,) = cursor.fetchone()
    return f"{count} events in {len(found)} partitions of {PARTITION_SIZE} ids, {size}"


def _insights() -> list[str]:
    period = Filters.last_days(70)
    lines = []
    for key, figure in figures.FIGURES.items():
        figure(period)  # warm
        ratios = []
        for _ in range(ROUNDS):
            floor = insights_bench.best_of(insights_bench.count_events, REPEATS)
            cost = insights_bench.best_of(lambda figure=figure: figure(period), REPEATS)
            ratios.append(cost / floor)
        print(f"{key}: median ratio {median(ratios):.2f}", flush=True)
        lines.append(
            verdict(f"scale.insights.{key}", median(ratios), at_most=insights_bench.TARGET)
        )
    return lines


def main() -> None:
    started = time.monotonic()
    print(f"journal of {ROWS} events, partitions of {PARTITION_SIZE} ids", flush=True)
    with _database():
        deep, shallow, record_customers, floor_conversations = _build()
        lines = journal_bench.bench_appends(record_customers, floor_conversations)
        lines += journal_bench.bench_pages(deep, shallow)
        lines = [line.replace("bench journal.", "bench scale.journal.") for line in lines]
        lines += _insights()
    print(f"total: {time.monotonic() - started:.0f} s", flush=True)
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    main()
