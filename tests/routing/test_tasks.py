"""The sweeps are wired into Celery beat under their task names, and each task runs its
sweep (through Celery's own task objects, not by calling the sweeps directly)."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from config.celery import app
from routing import callbacks
from routing.models import ScheduledCallBack

pytestmark = pytest.mark.django_db
TASKS = ["routing.sweep_call_backs", "routing.sweep_waiting_cases", "routing.sweep_unanswered"]


def test_every_sweep_is_on_the_beat_schedule():
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert set(TASKS) <= scheduled
    app.loader.import_default_modules()
    assert set(TASKS) <= set(app.tasks)


def test_the_call_back_task_raises_what_is_due(customer):
    soon = timezone.now() + timedelta(minutes=5)
    call_back = callbacks.schedule_call_back(
        customer=customer, slot=soon, time_zone="UTC", by_customer=True
    )
    ScheduledCallBack.objects.filter(pk=call_back.pk).update(
        next_action_at=timezone.now() - timedelta(seconds=1)
    )
    app.loader.import_default_modules()

    for name in TASKS:
        app.tasks[name].apply().get()

    call_back.refresh_from_db()
    assert call_back.status == "due"
