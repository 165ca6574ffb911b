"""Business hours for routing: is the shop open now, when does it open, which call-back
slots to offer. Hours are the stores' (instore.Store.business_hours, in the store's time
zone): the store whose number the customer reached, else the first store with hours set
(the shop's main store). No store with hours: always open, call backs any time of day.

This module is routing's one door to instore (a declared edge, tests/test_project_rules.py):
the stores are instore's, and slots, next openings and "open now" need their whole week,
which the single-number THROUGHLINE_BUSINESS_HOURS answer (open now, described) lacks.
"""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from instore.hours import describe
from instore.models import WEEKDAYS, Store

ALWAYS_OPEN = [["00:00", "24:00"]]


def stores_with_hours() -> list[Store]:
    """The stores with business hours set, the main store first (routing's rules snapshot)."""
    # with their numbers (channels_adapters.numbers' rows, read by relation name)
    return list(
        Store.objects.exclude(business_hours={})
        .order_by("pk")
        .prefetch_related("messaging_numbers")
    )


def store_choices() -> list[tuple[int, str]]:
    """Every store as (id, name), for the pickers that filter by store (the inbox's)."""
    return list(Store.objects.order_by("name").values_list("pk", "name")[:500])


def store_for(stores: list[Store], number: str = "") -> Store | None:
    """The store reached at `number` (a voice or SMS `to`: the store's own phone, or one
    of its numbers), else the main store."""
    if number:
        number = number.removeprefix("whatsapp:")
        for store in stores:
            if store.phone == number or any(
                n.phone_number == number for n in store.messaging_numbers.all()
            ):
                return store
    return stores[0] if stores else None


def _minutes(hhmm: str) -> int:
    hours, minutes = (int(part) for part in hhmm.split(":"))
    return hours * 60 + minutes


def _intervals(store: Store | None, day: date) -> list[tuple[int, int]]:
    hours = store.hours_on(WEEKDAYS[day.weekday()]) if store is not None else ALWAYS_OPEN
    return [(_minutes(a), _minutes(b)) for a, b in hours]


def _zone(store: Store | None) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(store.time_zone if store is not None else "UTC")


def _at(day: date, minutes: int, zone) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone) + timedelta(minutes=minutes)


def is_open(store: Store | None, at: datetime | None = None) -> bool:
    local = (at or timezone.now()).astimezone(_zone(store))
    now = local.hour * 60 + local.minute
    return any(opens <= now < closes for opens, closes in _intervals(store, local.date()))


def next_opening(store: Store | None, at: datetime | None = None) -> datetime | None:
    """When the store next opens after `at` (None: it never does)."""
    zone = _zone(store)
    local = (at or timezone.now()).astimezone(zone)
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        for opens, _closes in sorted(_intervals(store, day)):
            start = _at(day, opens, zone)
            if start > local:
                return start
    return None


def slots(
    store: Store | None, *, now: datetime | None = None, days: int, step: int, lead: int
) -> list[datetime]:
    """Call-back slot starts within business hours: every `step` minutes, from `lead`
    minutes ahead, over the next `days` days; each slot ends before closing."""
    zone = _zone(store)
    now = now or timezone.now()
    earliest = now + timedelta(minutes=lead)
    today = now.astimezone(zone).date()
    found = []
    for offset in range(days):
        day = today + timedelta(days=offset)
        for opens, closes in sorted(_intervals(store, day)):
            start = opens + (-opens % step)  # on the step's grid
            while start + step <= closes:
                at = _at(day, start, zone)
                if at >= earliest:
                    found.append(at)
                start += step
    return found


def describe_hours(store: Store | None) -> str:
    return describe(store) if store is not None else "any time"
