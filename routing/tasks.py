"""Routing's Celery beat tasks (CELERY_BEAT_SCHEDULE, "Routing"): each calls one sweep."""

from celery import shared_task

from . import callbacks, sweeps


@shared_task(name="routing.sweep_call_backs")
def sweep_call_backs() -> None:
    callbacks.raise_due_call_backs()


@shared_task(name="routing.sweep_waiting_cases")
def sweep_waiting_cases() -> None:
    sweeps.reassign_waiting()


@shared_task(name="routing.sweep_unanswered")
def sweep_unanswered() -> None:
    sweeps.flag_unanswered()
