"""Every insights figure against a plain COUNT(*) of the events: `python -m bench.insights`.

1. Seed about 1,000,000 events (insights/seed.py: 50,000 customers, 4 journeys each, over
   60 days), then VACUUM ANALYZE, as a live database would be.
2. For each figure, in ROUNDS rounds: time `SELECT count(*) FROM conversations_event`
   (the floor: PostgreSQL's cheapest full pass over the table) and the figure over the
   whole period, each the best of REPEATS; the figure's number is the median of the
   per-round ratios. Target: at most 3.

Everything runs on a scratch database, `throughline_bench_insights`, made and dropped
here. About 2 minutes, most of it the seed.
"""

# ruff: noqa: E402  (Django must be set up before the models are imported)

from __future__ import annotations

from bench import median, scratch_database, setup_django, verdict

setup_django()

import os
import time

from django.db import connection

from insights import figures
from insights.filters import Filters
from insights.seed import seed_journeys

DATABASE = "throughline_bench_insights"
CUSTOMERS = int(os.environ.get("BENCH_INSIGHTS_CUSTOMERS", "50000"))
ROUNDS = 5
REPEATS = 3
TARGET = 3.0


def best_of(action, repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def count_events() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM conversations_event")
        cursor.fetchone()


def main() -> None:
    with scratch_database(DATABASE):
        started = time.monotonic()
        seeded = seed_journeys(customers=CUSTOMERS, journeys=4, days=60)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        print(
            f"seeded {seeded.events} events, {seeded.cases} cases for {seeded.customers} "
            f"customers in {time.monotonic() - started:.0f} s",
            flush=True,
        )
        period = Filters.last_days(70)
        lines = []
        for key, figure in figures.FIGURES.items():
            figure(period)  # warm: plans and pages, as on a page seen before
            ratios = []
            for _ in range(ROUNDS):
                floor = best_of(count_events)
                cost = best_of(lambda figure=figure: figure(period))
                ratios.append(cost / floor)
            print(f"{key}: median ratio {median(ratios):.2f} over {ROUNDS} rounds", flush=True)
            lines.append(verdict(f"insights.{key}", median(ratios), at_most=TARGET))
        for line in lines:
            print(line)


if __name__ == "__main__":
    main()
