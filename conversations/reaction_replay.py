"""Re-deriving what reactions make, for a time range: `manage.py replay_reactions`.

For a disaster the hand-over rows cannot cover (events recorded before they existed, a
restored backup, a reaction that was wrongly switched off), this calls every
THROUGHLINE_EVENT_REACTIONS function again with each event recorded in the range, in the
order they were recorded. Reactions are idempotent and fill in rather than rewind, so a
replay run twice, or over events whose reactions already ran, changes nothing
(docs/subsystems/reactions.md, "Replaying a time range"): routing decides once per case,
attribution keeps the earliest follow-up, insights' facts are keyed by event or case,
engagement's live-only effects (an after-hours acknowledgement, stopping sequences
proposed later) are left out while `reactions.replaying()` says so.

The journal has no index on `recorded_at` (the append must stay lean), but ids grow with
it: the range's first id is found by bisecting the primary key (a few dozen lookups),
then the events are read in id order, a batch at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.db.models import Max, Min

from conversations import reactions
from conversations.models import Event

# Ids are drawn a moment after `recorded_at` is read, so the two orders agree but for
# writers that waited on a lock: look this far either side of the range.
SLACK = timedelta(minutes=10)


def replay_range(
    since: datetime,
    until: datetime | None = None,
    *,
    batch: int = 500,
    progress: Callable[[int, datetime], None] | None = None,
) -> int:
    """Run every reaction again on each event recorded in [since, until); return how many
    events. `progress(done, recorded_at)` is called after each batch."""
    last = _first_id_recorded_from(since - SLACK) - 1
    done = 0
    while True:
        rows = list(
            Event.objects.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", "recorded_at")[:batch]
        )
        if not rows:
            break
        last, reached = rows[-1]
        ids = [pk for pk, at in rows if at >= since and (until is None or at < until)]
        events = reactions._load(set(ids))  # an unreadable event is parked, as live
        for event_id in ids:
            if (event := events.get(event_id)) is not None:
                with reactions.replay_of(event):
                    reactions.run(event)
        done += len(ids)
        if progress is not None:
            progress(done, reached)
        if until is not None and reached >= until + SLACK:
            break
    return done


def _first_id_recorded_from(at: datetime) -> int:
    """The smallest event id recorded at or after `at` (ids grow with recorded_at)."""
    bounds = Event.objects.aggregate(low=Min("pk"), high=Max("pk"))
    if bounds["low"] is None:
        return 1
    low, high = bounds["low"], bounds["high"] + 1
    while low < high:
        middle = (low + high) // 2
        row = (
            Event.objects.filter(pk__gte=middle)
            .order_by("pk")
            .values_list("pk", "recorded_at")
            .first()
        )
        assert row is not None  # middle is at most the highest id
        pk, recorded_at = row
        if recorded_at < at:
            low = pk + 1
        else:
            high = middle
    return low
