"""Celery tasks of insights: each calls one verb."""

from celery import shared_task

from . import personas


@shared_task(name="insights.refresh_personas")
def refresh_personas() -> None:
    personas.refresh_all()
