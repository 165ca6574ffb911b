"""Celery tasks of the widget: interfaces only (HOUSE_STYLE 15)."""

from celery import shared_task

from .sweeps import sweep_anonymous_leftovers


@shared_task(name="webchat.sweep_anonymous")
def sweep_anonymous_task() -> dict:
    swept = sweep_anonymous_leftovers()
    return {"customers": swept.customers, "phone_codes": swept.phone_codes}
