"""Celery tasks of privacy: each calls one verb."""

from celery import shared_task

from . import retention


@shared_task(name="privacy.redact_expired")
def redact_expired() -> None:
    retention.redact_expired()
    retention.drop_expired_events()
