"""`python manage.py replay_reactions --since <time> [--until <time>]`: run the reactions
again on every event recorded in a time range (conversations/reaction_replay.py).

Routing facts, engagement's watches and attribution, insights' facts: what reactions
derive from events is derived again. Safe to run twice, or over events whose reactions
ran already: reactions are idempotent (docs/subsystems/reactions.md). A reaction that
fails is parked, as live. Times are ISO 8601 (`2026-11-30T08:00`, `2026-11-30`); without
an offset they are in TIME_ZONE.
"""

from __future__ import annotations

import time
from datetime import datetime
from datetime import time as day_start

from django.core.management.base import BaseCommand, CommandError
from django.utils import dateparse, timezone

from conversations.reaction_replay import replay_range

PROGRESS_SECONDS = 5  # a progress line at most this often


def _when(value: str) -> datetime:
    try:
        when = dateparse.parse_datetime(value)
        if when is None and (day := dateparse.parse_date(value)) is not None:
            when = datetime.combine(day, day_start())
    except ValueError as exc:  # well formed but impossible: 2026-02-30
        raise CommandError(f"{value!r} is not a time: {exc}") from None
    if when is None:
        raise CommandError(f"{value!r} is not a time: give ISO 8601, e.g. 2026-11-30T08:00")
    return timezone.make_aware(when) if timezone.is_naive(when) else when


class Command(BaseCommand):
    help = "Run the reactions again on the events recorded in a time range (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--since", required=True, help="From this time (ISO 8601).")
        parser.add_argument("--until", help="Up to this time, excluded (default: now).")
        parser.add_argument("--batch", type=int, default=500, help="Events read at once.")

    def handle(self, *args, since: str, until: str | None = None, batch: int = 500, **options):
        start, end = _when(since), _when(until) if until else None
        if end is not None and end <= start:
            raise CommandError("--until must come after --since.")
        if batch < 1:
            raise CommandError("--batch must be at least 1.")
        shown = [time.monotonic()]

        def progress(done: int, reached: datetime) -> None:
            if time.monotonic() - shown[0] >= PROGRESS_SECONDS:
                shown[0] = time.monotonic()
                self.stdout.write(f"... {done} events replayed, up to {reached.isoformat()}")

        done = replay_range(start, end, batch=batch, progress=progress)
        self.stdout.write(f"replayed the reactions of {done} events")
