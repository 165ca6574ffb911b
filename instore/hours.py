"""Business hours by phone number, for the voice adapter (setting THROUGHLINE_BUSINESS_HOURS).

`for_number("+14155550100")` answers for the store whose number was called:
`{"open": bool, "description": "Mon-Fri 9:00-18:00, Sat 10:00-16:00", "time_zone": ...}`,
or None when no store has that number or it has no hours set (callers treat that as open).
Read in the store's own time zone; "24:00" closes at midnight.

Every inbound call asks, so each process keeps the stores it read for
INSTORE_HOURS_CACHE_SECONDS; saving or deleting a store empties this process's copy at
once (others follow within that time).
"""

from __future__ import annotations

import time
import zoneinfo
from datetime import datetime

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from .models import WEEKDAYS, Store

_stores: dict[str, tuple[float, Store | None]] = {}  # number -> (read at, store or None)


@receiver([post_save, post_delete], sender=Store, dispatch_uid="instore.hours.forget")
def _forget_stores(**kwargs) -> None:
    _stores.clear()


def _store_for(number: str) -> Store | None:
    read_at, store = _stores.get(number, (0.0, None))
    if time.monotonic() - read_at >= settings.INSTORE_HOURS_CACHE_SECONDS:
        store = Store.objects.filter(phone=number).exclude(business_hours={}).first()
        if len(_stores) >= 1000:  # only signed webhooks ask, but keep it bounded anyway
            _stores.clear()
        _stores[number] = (time.monotonic(), store)
    return store


def for_number(number: str, *, now: datetime | None = None) -> dict | None:
    return for_store(_store_for(number), now=now)


def for_store(store: Store | None, *, now: datetime | None = None) -> dict | None:
    """The same answer for a store already known (the numbers app finds it by number)."""
    if store is None or not any(store.hours_on(day) for day in WEEKDAYS):
        return None
    local = (now or timezone.now()).astimezone(zoneinfo.ZoneInfo(store.time_zone))
    hhmm = local.strftime("%H:%M")
    is_open = any(
        opens <= hhmm < closes for opens, closes in store.hours_on(WEEKDAYS[local.weekday()])
    )
    return {"open": is_open, "description": describe(store), "time_zone": store.time_zone}


def describe(store: Store) -> str:
    """The week's hours in words a caller can hear: runs of days with the same hours."""
    runs: list[tuple[list[str], str]] = []
    for day in WEEKDAYS:
        hours = ", ".join(f"{_spoken(a)} to {_spoken(b)}" for a, b in store.hours_on(day))
        if not hours:
            continue
        if (
            runs
            and runs[-1][1] == hours
            and WEEKDAYS.index(runs[-1][0][-1]) + 1 == WEEKDAYS.index(day)
        ):
            runs[-1][0].append(day)
        else:
            runs.append(([day], hours))
    parts = []
    for days, hours in runs:
        named = (
            _DAY_NAMES[days[0]]
            if len(days) == 1
            else f"{_DAY_NAMES[days[0]]} to {_DAY_NAMES[days[-1]]}"
        )
        parts.append(f"{named}, {hours}")
    return "; ".join(parts)


_DAY_NAMES = dict(
    zip(
        WEEKDAYS,
        ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
        strict=True,
    )
)


def _spoken(hhmm: str) -> str:
    hour, minute = (int(part) for part in hhmm.split(":"))
    suffix = "am" if hour < 12 or hour == 24 else "pm"
    hour12 = hour % 12 or 12
    return f"{hour12}{suffix}" if minute == 0 else f"{hour12}:{minute:02d}{suffix}"
