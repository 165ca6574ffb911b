"""What each reaction costs per event, against the `record()` of that event:
`python -m bench.reactions` (about a minute).

The reactions (THROUGHLINE_EVENT_REACTIONS: routing, engagement's attribution and stops,
insights' facts and outcomes) run off the request path, in `manage.py react` processes
(conversations/reactions.py). Those processes keep up with the writers only while an
event's reactions cost about what its append did, so each is timed against the very
`record()` that wrote the event, in the same loop: record one event (no reaction
configured, so nothing is handed over), then run every reaction on it, each timed alone,
in an order that rotates. A round is PER_ROUND such events; each figure is the median over
ROUNDS rounds of (the reaction's median time / record()'s median time).

1. A follow-up: an inbound SMS on a case routing has already handled (intent, team and
   agent set; teams, agents and rules configured, as bench.routing sets them up).
   Target per reaction <= 1 (a reaction costs at most the append that set it off, as
   bench.routing asks of routing), and for all of them together <= 3 (the bound routing's
   first event has too: past it, keeping up takes several `react` processes per writer).
   The queries each reaction makes on one follow-up are printed too, for whoever speeds
   one up. Engagement's was about 6 (ten queries: attribution, the stops, the cart pause
   and the after-hours rule each asked on their own); it is about 0.4: one prepared read
   (engagement/outstanding.py) says which verb has anything to do. Outcomes' went from
   about 1.3 to 0.2 (one prepared UPDATE that reads the customer through the
   conversation). Insights' facts went from about 3.2 to about 1.0 (0.98-1.03 from run
   to run: a need of a case must see the contacts before it, so it was a transaction,
   BEGIN, the case's lock, one prepared statement, COMMIT), and to about 0.55 since the
   common follow-up is one statement in autocommit (insights/facts.py `_FOLLOW_UP_SQL`:
   it takes the same locks in it, and a guard on the case fact's contact count, which a
   row lock reads at its newest, tells it when its snapshot missed a contact created
   while it waited; then it declines to the locked path). A case's first need and a new
   contact pay that statement and the locked path (about 1.1 on a first event).
2. The first event of a new case (a shopper never seen, whose first text opens a case):
   routing's expensive half, the case's intent and team, and its assignment under the
   agent locks. Two figures for routing:
   - `routing_first_event`: the text names the product, so an intent rule decides (as
     bench.routing's rules are set up). Target <= 3 (issue 17). It was about 7.5: every
     new case built the whole customer context (a dozen queries) whether a rule read it
     or not, and recorded its intent and its assignment in two transactions; now the
     context is built only when a rule reads it, and the intent and the assignment are
     decided under the same locks and appended together (routing/triage.py).
   - `routing_first_event_from_context`: a text no intent rule matches, so the customer
     context decides (here: nothing in it, the default intent). Target <= 3 too (a first
     routing is a first routing). It was about 5.5: the whole customer context (a dozen
     queries) was built for what routing reads of it (a scan, the current intent, the
     last order, the cart's value); routing now reads the headline of the customer
     (conversations/context.py `headline_of`: one prepared statement, with the core's
     `Purchases` part that commerce's headline part fills), about 2.2.
   The other reactions are printed for the record.

Runs on a scratch database, `throughline_bench_reactions`, made and dropped here.
"""

# ruff: noqa: E402  (Django must be set up before the models are imported)

from __future__ import annotations

from bench import median, scratch_database, setup_django, verdict

setup_django()

import itertools
import time

from django.utils.module_loading import import_string

from base import plugins
from bench.routing import BODY, configure, quiet_journal
from conversations import journal
from conversations.identities import resolve_customer

DATABASE = "throughline_bench_reactions"
ROUNDS = 9
PER_ROUND = 30  # follow-up events per round
FIRST_PER_ROUND = 12  # first events of new cases per round
WARMUP = 20
FOLLOW_UP_TARGET, ALL_TARGET, FIRST_ROUTING_TARGET = 1.0, 3.0, 3.0
FROM_CONTEXT_TARGET = 3.0  # see 2. above
UNMATCHED = "Hello, I have a question, can someone get back to me?"  # no intent rule


def _record(customer, body=BODY):
    started = time.perf_counter()
    event = journal.record(
        customer=customer, channel="sms", kind="message", direction="in", body=body
    )
    return event, time.perf_counter() - started


def _react(reactions: list[tuple[str, object]], event, turn: int) -> dict[str, float]:
    """Each reaction on the event, timed alone, starting at a rotating one."""
    times = {}
    order = reactions[turn % len(reactions) :] + reactions[: turn % len(reactions)]
    for path, reaction in order:
        started = time.perf_counter()
        reaction(event)
        times[path] = time.perf_counter() - started
    return times


def _rounds(
    reactions, customers_of_round, per_round: int, body: str = BODY
) -> dict[str, list[float]]:
    """Per round: each reaction's median over record()'s median; "all": their sum's."""
    ratios: dict[str, list[float]] = {path: [] for path, _ in reactions} | {"all": []}
    turn = itertools.count()
    for number in range(ROUNDS):
        records, reacted = [], {path: [] for path, _ in reactions}
        totals = []
        for customer in customers_of_round(number, per_round):
            event, took = _record(customer, body)
            records.append(took)
            times = _react(reactions, event, next(turn))
            for path, seconds in times.items():
                reacted[path].append(seconds)
            totals.append(sum(times.values()))
        floor = median(records)
        for path, seconds in reacted.items():
            ratios[path].append(median(seconds) / floor)
        ratios["all"].append(median(totals) / floor)
    return ratios


def _queries(reactions, customer) -> dict[str, int]:
    """The queries record() and each reaction make for one follow-up event."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = {}
    with CaptureQueriesContext(connection) as captured:
        event, _ = _record(customer)
    counts["record"] = len(captured.captured_queries)
    for path, reaction in reactions:
        with CaptureQueriesContext(connection) as captured:
            reaction(event)
        counts[path] = len(captured.captured_queries)
    return counts


def _name(path: str) -> str:
    """`insights.facts.on_event` -> `insights_facts`: the verdict's name."""
    return path.removesuffix(".on_event").replace(".hooks", "").replace(".", "_")


def main() -> None:
    started = time.monotonic()
    paths = plugins.paths("event_reactions")
    reactions = [(path, import_string(path)) for path in paths]
    with scratch_database(DATABASE):
        handled = configure()  # routing's teams, agents and rules; one handled case
        with quiet_journal():
            follow_ups = [handled] + [
                resolve_customer("phone", f"+1415777{n:04d}") for n in range(3)
            ]
            for customer in follow_ups[1:]:  # each gets its case routed first
                event, _ = _record(customer)
                _react(reactions, event, 0)
            for n in range(WARMUP):
                event, _ = _record(follow_ups[n % len(follow_ups)])
                _react(reactions, event, n)
            queries = _queries(reactions, follow_ups[0])
            follow = _rounds(
                reactions,
                lambda number, count: [follow_ups[n % len(follow_ups)] for n in range(count)],
                PER_ROUND,
            )
            first = _rounds(
                reactions,
                lambda number, count: [
                    resolve_customer("phone", f"+1415{200 + number:03d}{n:04d}")
                    for n in range(count)
                ],
                FIRST_PER_ROUND,
            )
            from_context = _rounds(
                reactions,
                lambda number, count: [
                    resolve_customer("phone", f"+1415{300 + number:03d}{n:04d}")
                    for n in range(count)
                ],
                FIRST_PER_ROUND,
                UNMATCHED,
            )
    lines = []
    print(
        f"reactions per event / record() of it, medians of {ROUNDS} rounds "
        f"({PER_ROUND} follow-ups, {FIRST_PER_ROUND} first events per round):",
        flush=True,
    )
    print(
        "queries on one follow-up: "
        + ", ".join(f"{path} {count}" for path, count in queries.items()),
        flush=True,
    )
    for path in [*paths, "all"]:
        shown = " ".join(f"{r:.2f}" for r in follow[path])
        print(
            f"  {path}: follow-up {median(follow[path]):.2f} (rounds: {shown}); "
            f"first event {median(first[path]):.2f}, "
            f"from the context {median(from_context[path]):.2f}",
            flush=True,
        )
    for path in paths:
        lines.append(
            verdict(
                f"reactions.{_name(path)}_follow_up", median(follow[path]), at_most=FOLLOW_UP_TARGET
            )
        )
    lines.append(verdict("reactions.all_follow_up", median(follow["all"]), at_most=ALL_TARGET))
    routing = next((p for p in paths if p.startswith("routing.")), None)
    if routing is not None:
        lines.append(
            verdict(
                "reactions.routing_first_event",
                median(first[routing]),
                at_most=FIRST_ROUTING_TARGET,
            )
        )
        lines.append(
            verdict(
                "reactions.routing_first_event_from_context",
                median(from_context[routing]),
                at_most=FROM_CONTEXT_TARGET,
            )
        )
    print(f"total: {time.monotonic() - started:.0f} s", flush=True)
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    main()
