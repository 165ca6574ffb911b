"""A real Celery worker against Redis: the sweep task delivered twice sends one message, and
two sweeps at once decide each nudge once (SKIP LOCKED)."""

import time

import pytest
from django.db import connections
from django.utils import timezone

from channels_adapters.sms.backends import LocmemBackend
from conversations.models import Event, Outbox
from engagement import arbiter, sweeps
from engagement.models import Nudge
from tests.engagement.conftest import shopper


def daytime_shopper(phone: str):
    """A customer whose clock says about noon right now, whatever the time of the run."""
    customer = shopper(phone=phone)
    offset = 12 - timezone.now().hour  # hours to add to UTC for a local noon
    customer.time_zone = f"Etc/GMT{-offset:+d}" if offset else "UTC"  # Etc/ signs are inverted
    customer.save()
    return customer


def due_nudge(customer, key: str) -> Nudge:
    return arbiter.propose(
        customer,
        rule="cart_abandoned",
        step=1,
        dedupe_key=key,
        topic="cart_reminders",
        body="Still thinking about the T900?",
        due_at=timezone.now(),  # due, left for the sweep
    )


def wait_for(condition, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.django_db(transaction=True)
def test_the_sweep_task_delivered_twice_sends_once(sent_sms):
    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun

    from config.celery import app
    from conversations.tasks import deliver_outbox_item
    from engagement.tasks import sweep_engagement

    customer = daytime_shopper("+14155550170")
    nudge = due_nudge(customer, "worker-1")
    ran: set[str] = set()  # ids of the tasks the worker (a thread of this process) finished

    def finished(task_id=None, **_kwargs):
        ran.add(task_id)

    task_postrun.connect(finished, weak=False)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            sweep_engagement.delay()
            sweep_engagement.delay()  # the same task again, as a redelivery would bring it
            assert wait_for(lambda: Outbox.objects.filter(status="sent").exists())
            item = Outbox.objects.get()
            again = {
                deliver_outbox_item.delay(item.pk).id,  # and the delivery, twice more
                deliver_outbox_item.delay(item.pk).id,
                sweep_engagement.delay().id,
            }
            assert wait_for(lambda: again <= ran)  # all three ran (not merely queued)
    finally:
        task_postrun.disconnect(finished)
    connections.close_all()

    nudge.refresh_from_db()
    assert nudge.status == "sent"
    assert [m.body for m in sent_sms] == ["Still thinking about the T900?"]
    assert Event.objects.filter(kind="message", direction="out").count() == 1
    assert Event.objects.filter(kind="nudge").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_decide_every_nudge_once(concurrently):
    customers = [daytime_shopper(f"+1415555{n:04d}") for n in range(200, 240)]
    for customer in customers:
        due_nudge(customer, f"concurrent-{customer.pk}")

    results = concurrently(lambda: sweeps.sweep(batch_size=7), [(), ()])

    assert sum(r["nudges"] for r in results) == len(customers)
    assert Nudge.objects.filter(status="sent").count() == len(customers)
    assert Outbox.objects.count() == len(customers)
    assert Event.objects.filter(kind="nudge").count() == len(customers)
    LocmemBackend.sent.clear()
