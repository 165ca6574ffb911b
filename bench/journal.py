"""The journal's hot paths against their floors: `python -m bench.journal` (about 2 min).

1. Appends. `record()` against the cheapest way to put the same row in the same table: one
   INSERT of the event's columns with an explicit `seq`, in autocommit, prepared once per
   connection as record()'s own statement is (conversations/statements.py; the ORM's
   `Event.objects.create` would be a slower floor than record() itself). Writers are
   processes (gunicorn's sync workers are; threads would measure the GIL): 1 writer, and 4
   writers each on its own conversation (the target figure). Floor and `record` alternate
   in short rounds (PHASE_SECONDS each, so that a neighbour's burst of disk or CPU falls on
   both sides of a round alike) and each figure is the median of the per-round ratios
   over many rounds (one round's ratio ranges from 0.2 to 0.9 on a busy machine). Printed
   too, with no target: 4 writers on one conversation (they queue on its row lock by
   design), and record with a provider `source_id` (the webhook path).

   What the floor leaves out, on purpose: it is the bare cost of writing the row, and
   everything record() must do besides has to fit in as much again (target 0.5). That
   is: the seq handed out and the inbox summary moved on the conversation row, under its
   row lock (an UPDATE; not a HOT one, as `last_inbound_at` is in the inbox's index: made
   HOT by dropping that index, the figure rose by a few hundredths only, ADR 0005); the
   case's foreign key checked at commit (the floor's case is NULL); the reactions'
   `PendingReaction` row; after commit, the broadcast and the reactions' stream entry (one
   send to Redis, whose answers are not waited for: conversations/broadcast.py) and the
   event hooks. With a `source_id`, also the trigger's `conversations_eventsource` row
   (the floor has none; that figure has no target).

   Why two runs disagree (bench.journal against bench.scale in one `make bench`, or one
   against itself): the floor is one round trip to PostgreSQL and a WAL flush, and the
   ratio is that over itself plus record()'s extra. A slow disk (neighbours' fsyncs)
   raises the ratio; a busy CPU lowers it, since record() spends about three times the
   floor's CPU, in Python and in PostgreSQL (ADR 0005, "Follow-up"), and each wake-up of
   another process (the backend, Redis) then waits for a core. Neither the journal's
   size nor its partitions move it (measured: a fresh 10,000-event journal and a
   200,000-event partitioned one gave the same spread). Until issue 17 record() also
   waited for Redis's answer to its broadcast, a second round trip the floor does not
   make: the broadcast added 1.0 to 1.8 ms to a record() on a loaded 2-core machine
   (about the floor's whole append), 0.2 to 0.6 ms since. How far one run is from the
   next: on 8 December 2026 (load average 6 to 8) the same code gave
   `append_ratio_4_separate` from 0.32 to 0.48 in eight runs within an hour.
2. Deep timeline page. `timeline_page` (newest 50) of a 10,000-event conversation against
   a 50-event one: the same number of queries, and the ratio of the median times.
3. Broadcast. The after-commit publish that `record()` queues for one event (two messages:
   the conversation's group and the inbox) against one raw `PUBLISH` of as many bytes from
   this process over an open connection; and how many Redis connections the publishes
   opened (none: one connection per process). The publish waits for no answer of its own
   but reads the previous one's first, so back to back it costs a round trip like the raw
   `PUBLISH`. Printed too: against one raw `PUBLISH` per message, and what the broadcast
   adds to a whole `record()`.

Everything runs on a scratch database, `throughline_bench_journal`, on the server of
DATABASE_URL (or the embedded one), made and dropped here.
"""

# ruff: noqa: E402  (Django must be set up before the models are imported)

from __future__ import annotations

from bench import median, release_connections, scratch_database, setup_django, verdict

setup_django()

import itertools
import multiprocessing
import os
import time
import traceback
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Max
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench._journal_broadcast import bench_broadcast
from conversations import journal, statements
from conversations.identities import resolve_customer
from conversations.models import Conversation, Customer, Event
from conversations.queries import timeline_page

# Another name lets two checkouts run it side by side on one server.
DATABASE = os.environ.get("BENCH_JOURNAL_DATABASE", "throughline_bench_journal")
BODY = (
    "Hi! Is the blue rain jacket from the window still there in a medium? I could come by at six."
)

PHASE_SECONDS = 0.25  # every writer runs one mode this long; then all switch together
ROUNDS_1 = 40  # 1 writer: floor, record, record with source_id
ROUNDS_4 = 40  # 4 writers on 4 conversations: floor, record
ROUNDS_4_SHARED = 16  # 4 writers on 1 conversation: floor, record
WARMUP_APPENDS = 20  # per writer and mode, before the clock starts: pool, caches, first case
WRITERS = 4

DEEP_EVENTS, SHALLOW_EVENTS, PAGE_SIZE = 10_000, 50, 50
PAGE_REPEATS = 400


# ---------------------------------------------------------------------------- appends

# The floor: the row record() writes (the same columns), and nothing else.
_FLOOR_INSERT = """
INSERT INTO conversations_event (conversation_id, seq, case_id, channel, direction, kind,
    body, data, occurred_at, recorded_at, source_id, delivery_status, author_id)
VALUES (%s, %s, NULL, %s, %s, %s, %s, %s, %s, %s, NULL, '', NULL)
"""


def _appends(customer_id: int, conversation_id: int, seq_start: int, seq_step: int) -> dict:
    """Each mode's one append, as a no-argument callable (made in the writer process)."""
    seqs = itertools.count(seq_start, seq_step)
    customer = Customer.objects.get(pk=customer_id)
    source_ids = (f"bench-{customer_id}-{time.time_ns()}-{n}" for n in itertools.count())

    data = Event._meta.get_field("data").get_db_prep_save({}, connection)

    def insert() -> None:
        now = timezone.now()
        with statements.cursor() as cursor:  # prepared on first use, as record()'s append
            row = [conversation_id, next(seqs), Event.Channel.WEB, Event.Direction.IN, "message"]
            cursor.execute(_FLOOR_INSERT, [*row, BODY, data, now, now])

    def record(source_id: str | None = None) -> None:
        journal.record(
            customer=customer,
            channel=Event.Channel.WEB,
            kind="message",
            direction=Event.Direction.IN,
            body=BODY,
            source_id=source_id,
        )

    return {
        "insert": insert,
        "record": record,
        "record_sourced": lambda: record(next(source_ids)),
    }


def _writer(index, target, schedule, barrier, results) -> None:
    """A writer process: warm up, then run each phase of `schedule` in step with the others."""
    try:
        appends = _appends(*target)
        for mode in dict.fromkeys(schedule):
            for _ in range(WARMUP_APPENDS):
                appends[mode]()
        measured = []
        for mode in schedule:
            append = appends[mode]
            barrier.wait(timeout=60)
            latencies = []
            started = time.perf_counter()
            while (before := time.perf_counter()) - started < PHASE_SECONDS:
                append()
                latencies.append(time.perf_counter() - before)
            measured.append((len(latencies) / (time.perf_counter() - started), median(latencies)))
        results.put(("ok", index, measured))
    except BaseException:
        barrier.abort()
        results.put(("error", index, traceback.format_exc()))
    finally:
        release_connections()


def _next_seq(conversation_id: int) -> int:
    last = Event.objects.filter(conversation_id=conversation_id).aggregate(last=Max("seq"))["last"]
    return (last or 0) + 1


def run_writers(
    schedule: list[str], customers: list[int], conversations: list[int]
) -> list[tuple[float, float]]:
    """One writer process per (customer, floor conversation), all running `schedule` in step.

    Returns per phase the appends/s of all writers together and their median latency.
    Writers inserting into one floor conversation take interleaved seqs.
    """
    next_seqs = {conversation: _next_seq(conversation) for conversation in set(conversations)}
    release_connections()  # a forked child must not share the parent's sockets or pool
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(len(customers)), context.Queue()
    targets = [
        (customer, conversation, next_seqs[conversation] + i, len(customers))
        for i, (customer, conversation) in enumerate(zip(customers, conversations, strict=True))
    ]
    processes = [
        context.Process(target=_writer, args=(i, target, schedule, barrier, results))
        for i, target in enumerate(targets)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=len(schedule) * PHASE_SECONDS + 120) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    # The writer that failed first, not the others its abort woke up.
    for status, index, detail in sorted(outcomes, key=lambda o: "BrokenBarrierError" in str(o)):
        if status == "error":
            raise RuntimeError(f"writer {index} failed:\n{detail}")
    per_writer = [measured for _, _, measured in outcomes]
    return [
        (sum(rate for rate, _ in phase), median([latency for _, latency in phase]))
        for phase in zip(*per_writer, strict=True)
    ]


def _rounds(label, count, modes, customers, conversations):
    """`count` rounds of every mode, the floor first in even rounds and last in odd ones.

    Returns {mode: [appends/s per round]} and {mode: [median latency per round]}.
    """
    schedule = []
    for number in range(count):
        schedule += modes if number % 2 == 0 else modes[::-1]
    phases = run_writers(schedule, customers, conversations)
    rates = {mode: [] for mode in modes}
    latencies = {mode: [] for mode in modes}
    for mode, (rate, latency) in zip(schedule, phases, strict=True):
        rates[mode].append(rate)
        latencies[mode].append(latency)
    ratios = [
        record / floor for record, floor in zip(rates["record"], rates["insert"], strict=True)
    ]
    shown = " ".join(f"{r:.2f}" for r in ratios)
    print(
        f"  {label}, record/floor per round of {len(modes)} x {PHASE_SECONDS} s: {shown}",
        flush=True,
    )
    return rates, latencies


def _ratio(rates: dict[str, list[float]], mode: str) -> float:
    """The median over rounds of `mode`'s rate over the floor's rate in the same round."""
    return median([a / b for a, b in zip(rates[mode], rates["insert"], strict=True)])


def bench_appends(record_customers: list[int], floor_conversations: list[int]) -> list[str]:
    rates_1, latencies_1 = _rounds(
        "1 writer",
        ROUNDS_1,
        ["insert", "record", "record_sourced"],
        record_customers[:1],
        floor_conversations[:1],
    )
    rates_4, _ = _rounds(
        "4 writers, 4 conversations",
        ROUNDS_4,
        ["insert", "record"],
        record_customers[:WRITERS],
        floor_conversations[:WRITERS],
    )
    rates_shared, _ = _rounds(
        "4 writers, 1 conversation",
        ROUNDS_4_SHARED,
        ["insert", "record"],
        record_customers[WRITERS:] * WRITERS,
        floor_conversations[WRITERS:] * WRITERS,
    )

    def each(mode: str) -> str:
        return f"{median(rates_1[mode]):.0f}/s, {median(latencies_1[mode]) * 1000:.2f} ms each"

    print(
        "appends, medians over rounds:\n"
        f"  1 writer: insert floor {each('insert')}; record {each('record')}; "
        f"record with source_id {each('record_sourced')}, "
        f"ratio {_ratio(rates_1, 'record_sourced'):.2f}\n"
        f"  4 writers, 4 conversations: insert floor {median(rates_4['insert']):.0f}/s, "
        f"record {median(rates_4['record']):.0f}/s\n"
        f"  4 writers, 1 conversation: insert floor {median(rates_shared['insert']):.0f}/s, "
        f"record {median(rates_shared['record']):.0f}/s, "
        f"ratio {_ratio(rates_shared, 'record'):.2f} "
        "(no target: writers of one conversation queue on its row lock)",
        flush=True,
    )
    return [
        verdict("journal.append_ratio_1", _ratio(rates_1, "record"), at_least=0.5),
        verdict("journal.append_ratio_4_separate", _ratio(rates_4, "record"), at_least=0.5),
    ]


# ---------------------------------------------------------------------------- timeline pages


def build_timeline(conversation: Conversation, events: int, agent) -> None:
    """`events` gap-free events in one go, a third of them an agent's answers."""
    start = timezone.now() - timedelta(minutes=events)
    rows = []
    for seq in range(1, events + 1):
        answer = seq % 3 == 0
        at = start + timedelta(minutes=seq)
        rows.append(
            Event(
                conversation=conversation,
                seq=seq,
                channel=Event.Channel.AGENT if answer else Event.Channel.SMS,
                direction=Event.Direction.OUT if answer else Event.Direction.IN,
                kind="message",
                body=f"{BODY} (#{seq})",
                data={"segments": 1 + seq % 3},
                occurred_at=at,
                recorded_at=at,
                author=agent if answer else None,
                delivery_status="delivered" if answer else "",
            )
        )
    Event.objects.bulk_create(rows, batch_size=2_000)
    Conversation.objects.filter(pk=conversation.pk).update(last_seq=events, last_event_at=at)


def bench_pages(deep: Conversation, shallow: Conversation) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE conversations_event")  # what autovacuum does after a bulk load
    deep.refresh_from_db()
    shallow.refresh_from_db()
    queries = {}
    for conversation in (deep, shallow):
        with CaptureQueriesContext(connection) as captured:
            page = timeline_page(conversation, size=PAGE_SIZE)
        assert len(page) == PAGE_SIZE and page[-1].seq == conversation.last_seq
        queries[conversation.pk] = [query["sql"] for query in captured.captured_queries]
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) " + queries[deep.pk][-1]
        )
        plan = "\n".join(f"    {line}" for (line,) in cursor.fetchall())

    times = {deep.pk: [], shallow.pk: []}
    for repeat in range(PAGE_REPEATS + 20):
        for conversation in (deep, shallow) if repeat % 2 == 0 else (shallow, deep):
            started = time.perf_counter()
            timeline_page(conversation, size=PAGE_SIZE)
            if repeat >= 20:  # the first ones warm caches
                times[conversation.pk].append(time.perf_counter() - started)
    deep_ms, shallow_ms = median(times[deep.pk]) * 1000, median(times[shallow.pk]) * 1000
    print(
        f"timeline page of {PAGE_SIZE}, median of {PAGE_REPEATS}: "
        f"{DEEP_EVENTS}-event conversation {deep_ms:.3f} ms in {len(queries[deep.pk])} queries, "
        f"{SHALLOW_EVENTS}-event conversation {shallow_ms:.3f} ms "
        f"in {len(queries[shallow.pk])} queries\n"
        f"  plan of the deep page:\n{plan}",
        flush=True,
    )
    return [
        verdict(
            "journal.deep_page_extra_queries",
            len(queries[deep.pk]) - len(queries[shallow.pk]),
            at_most=0,
        ),
        verdict("journal.deep_page_ratio", deep_ms / shallow_ms, at_most=1.5),
    ]


# ---------------------------------------------------------------------------- main


def main() -> None:
    started = time.monotonic()
    with scratch_database(DATABASE):
        agent = get_user_model().objects.create_user("bench-agent", is_staff=True)
        conversations = [
            resolve_customer("external", f"bench-{n}").conversation for n in range(2 * WRITERS + 5)
        ]
        # Writers 0-3 on their own conversations, and the shared one; their floors likewise.
        record_customers = [c.customer_id for c in conversations[: WRITERS + 1]]
        floor_conversations = [c.pk for c in conversations[WRITERS + 1 : 2 * WRITERS + 2]]
        deep, shallow, for_broadcast = conversations[-3:]
        build_timeline(deep, DEEP_EVENTS, agent)
        build_timeline(shallow, SHALLOW_EVENTS, agent)
        print(f"setup: {time.monotonic() - started:.1f} s", flush=True)

        verdicts = bench_appends(record_customers, floor_conversations)
        verdicts += bench_pages(deep, shallow)
        verdicts += bench_broadcast(for_broadcast.customer, BODY)
    print(f"total: {time.monotonic() - started:.0f} s", flush=True)
    print("\n".join(verdicts), flush=True)


if __name__ == "__main__":
    main()
