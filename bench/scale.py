"""The journal's figures at scale: `BENCH_JOURNAL_ROWS=5000000 python -m bench.scale`.

Do the hot paths keep their ratios when the journal is big and partitioned (ADR 0009)?

1. A scratch database, `throughline_bench_scale`, whose journal is partitioned in ranges
   of BENCH_PARTITION_SIZE ids (default: a fifth of the rows, so the load spans five
   partitions and the appends write a sixth). The ranges are made first, as the hourly
   task would have.
2. BENCH_JOURNAL_ROWS events (default 1,000,000, so that `make bench` stays short) built in
   SQL with `generate_series` by insights' seed (insights/seed.py: about 20 events per
   customer in four journeys over 60 days, with their cases and insights' facts), in
   batches of SEED_BATCH customers, never through the API; then VACUUM ANALYZE.
3. On that journal, the figures of `bench.journal` (appends against a prepared INSERT of
   the same row, the deep timeline page against a shallow one, the deep one's 10,000
   events spread over every partition as a customer of years' standing has them) and of
   `bench.insights` (each figure against a COUNT(*) of the events), printed as
   `bench scale.<name>`.

Measured on this machine (2 cores, shared): see docs/scaling.md, "Limits of one
PostgreSQL". 1M rows take about 8 minutes, 5M about 35 (30 of them the seed, whose
batches slow down as the tables grow), 1 GB of journal; 50M would take some five hours
here and about 10 GB.
"""

# ruff: noqa: E402  (Django must be set up before the models are imported)

from __future__ import annotations

import os

ROWS = int(os.environ.get("BENCH_JOURNAL_ROWS", "1000000"))
PARTITION_SIZE = int(os.environ.get("BENCH_PARTITION_SIZE", str(max(ROWS // 5, 10_000))))
# read by the settings when Django starts, and so by migration 0013 on the scratch database
os.environ["THROUGHLINE_JOURNAL_PARTITION_SIZE"] = str(PARTITION_SIZE)

from bench import median, scratch_database, setup_django, verdict

setup_django()

import time

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from bench import insights as insights_bench
from bench import journal as journal_bench
from conversations import partitions
from conversations.identities import resolve_customer
from conversations.models import Conversation
from insights import figures
from insights.filters import Filters
from insights.seed import seed_journeys

DATABASE = os.environ.get("BENCH_SCALE_DATABASE", "throughline_bench_scale")
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


def _build() -> tuple[Conversation, Conversation, list[int], list[int]]:
    """The seed, in batches; between them, a slice of the deep timeline each, so that its
    10,000 events are spread over every partition, as a customer of years' standing has
    them. The shallow one (50 events) is a recent customer's: in the newest partition."""
    started = time.monotonic()
    customers = max(ROWS // EVENTS_PER_CUSTOMER, 1)
    batch = max(min(SEED_BATCH, customers // 5), 1)
    # every range the load needs, made ahead (the hourly task's job)
    partitions.create_ahead(ahead=ROWS // PARTITION_SIZE + 2, size=PARTITION_SIZE)
    agent = get_user_model().objects.create_user("bench-agent", is_staff=True)
    conversations = [
        resolve_customer("external", f"bench-{n}").conversation
        for n in range(2 * journal_bench.WRITERS + 4)
    ]
    deep, shallow = conversations[-2:]
    batches = -(-customers // batch)
    per_slice = -(-journal_bench.DEEP_EVENTS // batches)
    events, seq = 0, 0
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
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
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
        for _ in range(insights_bench.ROUNDS):
            floor = insights_bench.best_of(insights_bench.count_events)
            cost = insights_bench.best_of(lambda figure=figure: figure(period))
            ratios.append(cost / floor)
        print(f"{key}: median ratio {median(ratios):.2f}", flush=True)
        lines.append(
            verdict(f"scale.insights.{key}", median(ratios), at_most=insights_bench.TARGET)
        )
    return lines


def main() -> None:
    started = time.monotonic()
    print(f"journal of {ROWS} events, partitions of {PARTITION_SIZE} ids", flush=True)
    with scratch_database(DATABASE):
        deep, shallow, record_customers, floor_conversations = _build()
        lines = journal_bench.bench_appends(record_customers, floor_conversations)
        lines += journal_bench.bench_pages(deep, shallow)
        lines = [line.replace("bench journal.", "bench scale.journal.") for line in lines]
        lines += _insights()
    print(f"total: {time.monotonic() - started:.0f} s", flush=True)
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    main()
