"""The outbox's schedule: when a failed attempt is tried again, and the sweep that hands
due rows to the workers (conversations/outbox.py says what each status means).

`retry_later` puts a row whose attempt failed transiently (the request never left) back
to `pending` with its next attempt time; `sweep` (Celery beat, every minute) enqueues the
due pending rows and moves rows whose worker died mid-call to `reconcile`. An attempt
that comes when a send check says "not now" (send_checks.py) is not a failure: it waits
without using up an attempt.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from conversations.models import Outbox

# A new row's task normally runs within a second of the commit; the sweep steps in only
# when that task was lost, this long after. The same lease keeps a row the sweep has just
# enqueued from being enqueued again on the next beat while it waits in the queue.
ENQUEUE_LEASE = timedelta(minutes=2)
# Waits after the 1st, 2nd, ... failed attempt that may be retried; then it fails for good.
RETRY_DELAYS = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1


def retry_later(item: Outbox, *, code: str, reason: str) -> str:
    """A transient failure of attempt `item.attempts`: pending again after its delay."""
    now = timezone.now()
    Outbox.objects.filter(pk=item.pk, status=Outbox.Status.SENDING).update(
        status=Outbox.Status.PENDING,
        next_attempt_at=now + RETRY_DELAYS[min(item.attempts, len(RETRY_DELAYS)) - 1],
        claimed_at=None,
        error_code=code,
        last_error=reason,
        updated_at=now,
    )
    return Outbox.Status.PENDING


def sweep(*, batch_size: int = 500, stale_after: timedelta | None = None) -> dict[str, int]:
    """One beat of the outbox: enqueue due pending rows, reconcile abandoned sending rows.

    Reads only due work through the two partial indexes, `batch_size` rows of each at most
    (about 1 ms per row: a beat stays well under a second). Concurrent sweeps skip each
    other's rows (SKIP LOCKED), and a row just enqueued is leased for ENQUEUE_LEASE so the
    next beat does not enqueue it again while it waits in the queue.
    """
    from conversations.outbox import (  # outbox imports this module
        _reconcile,
        enqueue_delivery_on_commit,
    )

    now = timezone.now()
    stale_after = (
        stale_after if stale_after is not None else timedelta(seconds=settings.OUTBOX_STALE_AFTER)
    )
    abandoned = 0
    for item in Outbox.objects.select_related("event").filter(
        status=Outbox.Status.SENDING, claimed_at__lt=now - stale_after
    )[:batch_size]:
        # its worker died (or hangs) mid-call: the message may be out, so never resend it
        _reconcile(
            item,
            "The worker stopped while sending; it is unknown whether the message went out. "
            "It will not be resent automatically.",
            claimed_before=now - stale_after,
        )
        abandoned += 1
    with transaction.atomic():
        due = list(
            Outbox.objects.select_for_update(no_key=True, skip_locked=True)
            .filter(Q(status=Outbox.Status.PENDING), Q(next_attempt_at__lte=now))
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:batch_size]
        )
        Outbox.objects.filter(pk__in=due).update(next_attempt_at=now + ENQUEUE_LEASE)
        for pk in due:
            enqueue_delivery_on_commit(pk)
    return {"enqueued": len(due), "reconcile": abandoned}
