"""The sweeps (Celery beat, every minute): due watches, then due nudges.

Both read only due rows through partial indexes (`watch_due_idx`, `nudge_due_idx`), in
batches claimed with `FOR UPDATE SKIP LOCKED`, so several workers can sweep at once
without double work and a sweep's cost follows the due work, not the number of carts.
Nothing is scheduled as a countdown: the time is on the row.

1. Watches: each due watch's rule `advance`s it (proposes its next step due now, moves
   `next_action_at`, or closes it), each in a savepoint so one bad row cannot stop the
   batch.
2. Nudges: the customers with due nudges, in id order (so two sweeps lock conversations
   in one order and cannot deadlock), each decided by `arbiter.decide`: all of a
   customer's due nudges together, so two rules due at once send one message.

A batch is one transaction: BATCH_SIZE rows at a few milliseconds each holds its locks
for about a second at most. A sweep does MAX_BATCHES of each and reports `more` when work
remains, and the task enqueues itself again.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from conversations.models import Customer

from . import arbiter
from .models import Nudge, RuleConfig, Watch
from .rules import rules

logger = logging.getLogger(__name__)

BATCH_SIZE = 200
MAX_BATCHES = 10
# A watch whose rule raised is looked at again this much later, not on every beat.
RETRY_AFTER = timedelta(minutes=10)


def sweep(
    *, batch_size: int = BATCH_SIZE, max_batches: int = MAX_BATCHES, now: datetime | None = None
) -> dict:
    """One beat: advance due watches, then decide due nudges; return the counts."""
    now = now or timezone.now()
    advanced, more_watches = sweep_watches(batch_size=batch_size, max_batches=max_batches, now=now)
    decided, more_nudges = sweep_nudges(batch_size=batch_size, max_batches=max_batches, now=now)
    return {"watches": advanced, "nudges": decided, "more": more_watches or more_nudges}


def sweep_watches(*, batch_size: int, max_batches: int, now: datetime) -> tuple[int, bool]:
    registry = rules()
    configs: dict[str, RuleConfig] = {}
    done = 0
    for _ in range(max_batches):
        with transaction.atomic():
            batch = list(
                Watch.objects.select_for_update(no_key=True, skip_locked=True)
                .filter(next_action_at__lte=now)
                .order_by("next_action_at")[:batch_size]
            )
            for watch in batch:
                rule = registry.get(watch.rule)
                if rule is not None and watch.rule not in configs:
                    configs[watch.rule] = rule.config()
                config = configs.get(watch.rule)
                if rule is None or config is None or not config.enabled:
                    watch.next_action_at = None  # paused: the subject's next change re-arms it
                else:
                    before = (watch.step, watch.closed_reason, dict(watch.data))
                    try:
                        with transaction.atomic():
                            rule.advance(watch, config, now)
                    except Exception:
                        logger.exception("rule %s failed on watch %s", watch.rule, watch.pk)
                        watch.step, watch.closed_reason, watch.data = before  # rolled back
                        watch.next_action_at = now + RETRY_AFTER
                watch.updated_at = now
                watch.save(
                    update_fields=["step", "next_action_at", "closed_reason", "data", "updated_at"]
                )
        done += len(batch)
        if len(batch) < batch_size:
            return done, False
    return done, True


def sweep_nudges(*, batch_size: int, max_batches: int, now: datetime) -> tuple[int, bool]:
    done = 0
    for _ in range(max_batches):
        with transaction.atomic():
            claimed = list(
                Nudge.objects.select_for_update(no_key=True, skip_locked=True)
                .filter(status=Nudge.Status.WAITING, next_action_at__lte=now)
                .order_by("next_action_at")
                .values_list("customer_id", flat=True)[:batch_size]
            )
            customers = Customer.objects.in_bulk(set(claimed))
            for customer_id in sorted(customers):
                try:
                    with transaction.atomic():
                        arbiter.decide(customers[customer_id], now=now)
                except Exception:
                    # its nudges stay waiting and due: the next beat tries again
                    logger.exception("deciding the nudges of customer %s failed", customer_id)
        done += len(claimed)
        if len(claimed) < batch_size:
            return done, False
    return done, True
