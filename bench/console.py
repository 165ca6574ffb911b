"""The agent console's pages against their small versions: `python -m bench.console` (~1.5 min).

1. Conversation page. The whole three-pane workspace page with the conversation open
   (the conversation list, a timeline page of TIMELINE_PAGE_SIZE events, the context
   panel, suggestions, reply box), through Django's test client, for a 10,000-event
   conversation against a 50-event one: the same number of queries, and the ratio of the
   median times (requests alternate, so noise hits both alike).
2. Inbox. The workspace page with no conversation open (the list's first INBOX_PAGE_SIZE
   rows: due call backs, hot, then longest waiting, each with its last words and when a
   person last answered) with 10,000 open cases against 100: the same number of
   queries, and the time ratio.
   Both states live in one database: 9,900 of the conversations are switched between
   open and idle by one UPDATE (then VACUUM ANALYZE, as autovacuum would), in rounds.

To add a figure, write a function taking the `Setup` and returning verdict lines, and
append it to FIGURES. (Routing's added cost is bench/routing.py's own figure: `make
bench` runs that script too, so listing it here printed it twice.)

Everything runs on a scratch database, `throughline_bench_console`, made and dropped here.
"""

# ruff: noqa: E402  (Django must be set up before the models are imported)

from __future__ import annotations

from bench import median, scratch_database, setup_django, verdict

setup_django()

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from console.roles import ensure_roles
from conversations.models import Case, Conversation, Customer, Event, Identity

DATABASE = "throughline_bench_console"
DEEP_EVENTS, SHALLOW_EVENTS = 10_000, 50
BIG_INBOX, SMALL_INBOX = 10_000, 100
PAGE_REPEATS = 100  # per conversation, alternating
INBOX_ROUNDS, INBOX_REPEATS = 6, 20  # rounds of (small, big), requests per state per round
WARMUP = 10
BODY = "Hi! Is the T900 treadmill quiet enough for a flat? <b>Asking</b> for my neighbours."


@dataclass
class Setup:
    client: Client
    agent: object
    deep: Conversation
    shallow: Conversation


# ---------------------------------------------------------------------------- data


def _conversation_with(events: int, n: int, agent) -> Conversation:
    customer = Customer.objects.create(display_name=f"Bench customer {n}")
    conversation = Conversation.objects.create(customer=customer)
    Identity.objects.create(customer=customer, kind="phone", value=f"+1415555{n:04d}")
    Identity.objects.create(customer=customer, kind="visitor", value=f"bench-visitor-{n}")
    case = Case.objects.create(conversation=conversation, intent="product evaluation")
    start = timezone.now() - timedelta(minutes=events + 5)
    rows = []
    for seq in range(1, events + 1):
        answer = seq % 3 == 0
        at = start + timedelta(minutes=seq)
        rows.append(
            Event(
                conversation=conversation,
                seq=seq,
                case=case,
                channel=["web", "sms", "voice"][seq % 3] if not answer else "sms",
                direction="out" if answer else "in",
                kind="message",
                body=f"{BODY} (#{seq})",
                data={"to": "+14155550000"} if answer else {},
                occurred_at=at,
                recorded_at=at,
                author=agent if answer else None,
                delivery_status="delivered" if answer else "",
            )
        )
    Event.objects.bulk_create(rows, batch_size=2_000)
    Conversation.objects.filter(pk=conversation.pk).update(
        last_seq=events,
        last_event_at=at,
        last_inbound_at=at,
        last_channel="sms",
        status="open",
        current_case=case,
        unread_count=1,
    )
    conversation.refresh_from_db()
    return conversation


def _open_cases(count: int) -> list[int]:
    """`count` customers, each with an open case and one waiting message; their conversation
    ids, oldest waiting first."""
    now = timezone.now()
    customers = Customer.objects.bulk_create(
        Customer(display_name=f"Waiting {n}") for n in range(count)
    )
    conversations = Conversation.objects.bulk_create(
        Conversation(
            customer=c,
            status="open",
            priority=10 if n % 50 == 0 else 0,
            last_seq=1,
            last_event_at=now - timedelta(seconds=n),
            last_inbound_at=now - timedelta(seconds=n),
            last_channel=["web", "sms", "voice"][n % 3],
            unread_count=1 + n % 4,
        )
        for n, c in enumerate(customers)
    )
    cases = Case.objects.bulk_create(Case(conversation=c) for c in conversations)
    Event.objects.bulk_create(
        (
            Event(
                conversation=c,
                seq=1,
                case=case,
                channel=c.last_channel,
                direction="in",
                kind="message",
                body=f"{BODY} ({c.pk})",
                occurred_at=c.last_inbound_at,
            )
            for c, case in zip(conversations, cases, strict=True)
        ),
        batch_size=2_000,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE conversations_conversation c SET current_case_id = k.id "
            "FROM conversations_case k WHERE k.conversation_id = c.id AND c.id = ANY(%s)",
            [[c.pk for c in conversations]],
        )
    return [c.pk for c in conversations]


def _vacuum() -> None:
    with connection.cursor() as cursor:
        for table in ["conversations_conversation", "conversations_case", "conversations_event"]:
            cursor.execute(f"VACUUM ANALYZE {table}")  # our own table names


# ---------------------------------------------------------------------------- figures


def _get(client: Client, url: str) -> tuple[float, int]:
    connection.queries_log.clear()  # a full query log (9,000) would make every count 0
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        response = client.get(url)
        elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.status_code
    return elapsed, len(captured)


def bench_conversation_page(setup: Setup) -> list[str]:
    urls = {
        name: reverse("admin:conversations_conversation_change", args=[c.pk])
        for name, c in [("deep", setup.deep), ("shallow", setup.shallow)]
    }
    times, queries = {"deep": [], "shallow": []}, {}
    for repeat in range(PAGE_REPEATS + WARMUP):
        for name in ("deep", "shallow") if repeat % 2 == 0 else ("shallow", "deep"):
            elapsed, count = _get(setup.client, urls[name])
            queries[name] = count
            if repeat >= WARMUP:
                times[name].append(elapsed)
    deep_ms, shallow_ms = median(times["deep"]) * 1000, median(times["shallow"]) * 1000
    print(
        f"conversation page, median of {PAGE_REPEATS}: {DEEP_EVENTS} events {deep_ms:.2f} ms "
        f"in {queries['deep']} queries, {SHALLOW_EVENTS} events {shallow_ms:.2f} ms "
        f"in {queries['shallow']} queries",
        flush=True,
    )
    return [
        verdict("console.page_extra_queries", queries["deep"] - queries["shallow"], at_most=0),
        verdict("console.page_ratio", deep_ms / shallow_ms, at_most=1.5),
    ]


def bench_inbox(setup: Setup) -> list[str]:
    kept = _open_cases(SMALL_INBOX - 2)  # plus the two conversations above: 100 open
    switched = _open_cases(BIG_INBOX - SMALL_INBOX)
    del kept
    url = reverse("admin:conversations_inbox")

    def state(status: str) -> None:
        Conversation.objects.filter(pk__in=switched).update(status=status)
        _vacuum()

    times, queries = {"big": [], "small": []}, {}
    for round_ in range(INBOX_ROUNDS):
        for name, status in (
            (("small", "idle"), ("big", "open"))
            if round_ % 2 == 0
            else (
                ("big", "open"),
                ("small", "idle"),
            )
        ):
            state(status)
            open_now = Conversation.objects.filter(status="open").count()
            assert open_now == (BIG_INBOX if name == "big" else SMALL_INBOX), open_now
            for repeat in range(INBOX_REPEATS + WARMUP):
                elapsed, count = _get(setup.client, url)
                queries[name] = count
                if repeat >= WARMUP:
                    times[name].append(elapsed)
    state("open")
    with CaptureQueriesContext(connection) as captured:
        setup.client.get(url)
    inbox_sql = next(q["sql"] for q in captured.captured_queries if "ORDER BY" in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) " + inbox_sql)
        plan = "\n".join(f"    {line}" for (line,) in cursor.fetchall())
    print(f"  plan of the inbox page with {BIG_INBOX} open cases:\n{plan}", flush=True)
    big_ms, small_ms = median(times["big"]) * 1000, median(times["small"]) * 1000
    print(
        f"inbox page, median of {INBOX_ROUNDS * INBOX_REPEATS // 2} per state: "
        f"{BIG_INBOX} open cases {big_ms:.2f} ms in {queries['big']} queries, "
        f"{SMALL_INBOX} open cases {small_ms:.2f} ms in {queries['small']} queries",
        flush=True,
    )
    return [
        verdict("console.inbox_extra_queries", queries["big"] - queries["small"], at_most=0),
        verdict("console.inbox_ratio", big_ms / small_ms, at_most=1.5),
    ]


# Each takes the Setup and returns its verdict lines; run in this order.
FIGURES: list[Callable[[Setup], list[str]]] = [
    bench_conversation_page,
    bench_inbox,
]


def main() -> None:
    started = time.monotonic()
    with scratch_database(DATABASE):
        ensure_roles()
        agent = get_user_model().objects.create_user("bench-agent", is_staff=True)
        agent.groups.add(*ensure_roles().values())
        client = Client()
        client.force_login(agent)
        setup = Setup(
            client=client,
            agent=agent,
            deep=_conversation_with(DEEP_EVENTS, 1, agent),
            shallow=_conversation_with(SHALLOW_EVENTS, 2, agent),
        )
        _vacuum()
        print(f"setup: {time.monotonic() - started:.1f} s", flush=True)
        verdicts = []
        for figure in FIGURES:
            verdicts += figure(setup)
    print(f"total: {time.monotonic() - started:.0f} s", flush=True)
    print("\n".join(verdicts), flush=True)


if __name__ == "__main__":
    main()
