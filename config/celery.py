"""The Celery app: Redis broker, no result backend, late acks (settings `CELERY_*`)."""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("throughline")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.worker_init.connect
def _time_tasks(**kwargs):
    """Every task's duration (the sweeps') on /metrics; the pool's processes inherit it."""
    from operations.telemetry import time_tasks

    time_tasks()
