"""Business hours by the number called (THROUGHLINE_BUSINESS_HOURS, the default): the hours
of the store the number belongs to (instore.hours), or, for a number that is no store's
row, the store whose own phone it is, as before numbers were data.

The store is read once per NUMBERS_CACHE_SECONDS per process (every inbound call asks);
saving a store or a number forgets it in this process at once.
"""

from __future__ import annotations

import time
from datetime import datetime

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from instore import hours as instore_hours
from instore.models import Store

from .directory import current

_stores: dict[int, tuple[float, Store | None]] = {}


@receiver([post_save, post_delete], sender=Store, dispatch_uid="numbers.hours.forget")
def _forget(**kwargs) -> None:
    _stores.clear()


def store_id_for(number: str) -> int | None:
    """The store our number `number` belongs to (None: the shop's, or not a row)."""
    directory = current()
    found = directory.number(number) if directory and number else None
    return found.store_id if found else None


def for_number(number: str, *, now: datetime | None = None) -> dict | None:
    store_id = store_id_for(number)
    if store_id is None:
        return instore_hours.for_number(number, now=now)
    return instore_hours.for_store(_store(store_id), now=now)


def _store(store_id: int) -> Store | None:
    read_at, store = _stores.get(store_id, (0.0, None))
    if time.monotonic() - read_at >= settings.NUMBERS_CACHE_SECONDS:
        store = Store.objects.filter(pk=store_id).first()
        _stores[store_id] = (time.monotonic(), store)
    return store
