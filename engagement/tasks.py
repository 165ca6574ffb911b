"""Celery tasks of engagement: each loads nothing itself and calls one verb."""

from celery import shared_task

from . import sweeps


@shared_task(name="engagement.sweep")
def sweep_engagement() -> dict:
    # Two deliveries of this task (a redelivered late ack, two beats) claim disjoint rows
    # with SKIP LOCKED, and a decided nudge is no longer due: nothing is sent twice.
    result = sweeps.sweep()
    if result["more"]:
        sweep_engagement.delay()  # more due work than one beat's budget: carry on now
    return result
