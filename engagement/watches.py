"""Verbs on watches: `arm` (look at this subject again at a time), `close` (stop for good).

A watch is found by (rule, subject); arming one that exists moves its time, unless it was
closed (a sequence stopped by a reply, an order or STOP stays stopped). `next_action_at`
NULL means "nothing to do until the subject changes", and keeps the row out of the
sweep's partial index.
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from conversations.models import Customer
from conversations.reactions import replaying

from .models import Watch


def arm(
    *,
    rule: str,
    subject: str,
    customer: Customer | int,
    at: datetime | None,
    data: dict | None = None,
) -> Watch | None:
    """Watch `subject` for `rule`, due `at` (None: until it changes); None if closed."""
    now = timezone.now()
    customer_id = customer if isinstance(customer, int) else customer.pk
    watch = Watch.objects.filter(rule=rule, subject=subject).first()
    if watch is None:
        try:
            with transaction.atomic():
                return Watch.objects.create(
                    rule=rule,
                    subject=subject,
                    customer_id=customer_id,
                    next_action_at=at,
                    data=data or {},
                    created_at=now,
                    updated_at=now,
                )
        except IntegrityError:
            watch = Watch.objects.get(rule=rule, subject=subject)  # armed meanwhile
    if watch.closed_reason:
        return None
    if replaying():
        return watch  # a replay fills in missing watches; later events armed this one
    changes = {"next_action_at": at, "updated_at": now}
    if data:
        changes["data"] = {**watch.data, **data}
    # conditional: a close that commits meanwhile wins
    Watch.objects.filter(pk=watch.pk, closed_reason="").update(**changes)
    for name, value in changes.items():
        setattr(watch, name, value)
    return watch


def close(*, customer: Customer | int, reason: str, rules: tuple[str, ...] | None = None) -> int:
    """Stop every open watch of the customer (of these rules, or all); return how many.
    Replaying an event (`manage.py replay_reactions`), only those made before it."""
    customer_id = customer if isinstance(customer, int) else customer.pk
    watches = Watch.objects.filter(customer_id=customer_id, closed_reason="")
    if rules is not None:
        watches = watches.filter(rule__in=rules)
    if (replayed := replaying()) is not None:
        watches = watches.filter(created_at__lte=replayed.recorded_at)
    return watches.update(closed_reason=reason, next_action_at=None, updated_at=timezone.now())


def close_watch(watch: Watch, reason: str) -> None:
    """Inside a sweep: the claimed watch is done (the sweep saves it)."""
    watch.closed_reason = reason
    watch.next_action_at = None
