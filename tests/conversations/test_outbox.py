import threading
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from conversations import outbox
from conversations.models import Event, Identity, Outbox
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

PHONE = "+14155550123"


class ScriptedSender:
    """A channel sender for these tests: records calls, raises what it is told to."""

    def __init__(self):
        self.calls: list[int] = []
        self.errors: list[Exception] = []
        self.lock = threading.Lock()

    def __call__(self, item: Outbox) -> outbox.Receipt:
        with self.lock:
            self.calls.append(item.pk)
            error = self.errors.pop(0) if self.errors else None
        if error:
            raise error
        return outbox.Receipt(provider_id=f"P{item.pk}-{len(self.calls)}", status="queued")


scripted = ScriptedSender()


@pytest.fixture(autouse=True)
def sender(settings):
    settings.THROUGHLINE_SENDERS = {"sms": "tests.conversations.test_outbox.scripted"}
    scripted.calls.clear()
    scripted.errors.clear()
    return scripted


def customer_with_phone(value=PHONE):
    customer = CustomerFactory()
    Identity.objects.create(customer=customer, kind="phone", value=value)
    return customer


def test_send_writes_the_event_and_its_outbox_row_together():
    customer = customer_with_phone()

    event = outbox.send(customer=customer, channel="sms", body="Your order shipped")

    assert (event.direction, event.kind, event.delivery_status) == ("out", "message", "pending")
    item = event.outbox
    assert (item.status, item.to_address, item.body) == ("pending", PHONE, "Your order shipped")


def test_a_send_whose_transaction_rolls_back_leaves_neither():
    customer = customer_with_phone()

    with pytest.raises(RuntimeError), transaction.atomic():
        outbox.send(customer=customer, channel="sms", body="never")
        raise RuntimeError("the caller's decision failed")

    assert not Event.objects.exists() and not Outbox.objects.exists()


def test_it_picks_the_newest_phone_that_has_not_opted_out():
    customer = customer_with_phone("+14155550123")
    newer = Identity.objects.create(customer=customer, kind="phone", value="+14155550199")
    Identity.objects.filter(pk=newer.pk).update(opted_out_at=timezone.now())

    event = outbox.send(customer=customer, channel="sms", body="hi")

    assert event.outbox.to_address == "+14155550123"


@pytest.mark.parametrize(
    "kwargs, reason",
    [
        ({"channel": "pigeon", "body": "hi"}, "cannot send"),
        ({"channel": "sms", "body": " \xa0 "}, "empty"),
        ({"channel": "sms", "body": "x" * 1601}, "limit"),
        ({"channel": "sms", "body": "hi", "to": "+14155550111"}, "no phone"),
    ],
)
def test_it_refuses_with_a_reason(kwargs, reason):
    customer = customer_with_phone()

    with pytest.raises(outbox.Refused, match=reason):
        outbox.send(customer=customer, **kwargs)

    assert not Outbox.objects.exists()


def test_deliver_sends_once_and_records_the_receipt(sender):
    event = outbox.send(customer=customer_with_phone(), channel="sms", body="hi")

    assert outbox.deliver(event.outbox.pk) == "sent"
    assert outbox.deliver(event.outbox.pk) == "sent"

    assert sender.calls == [event.outbox.pk]
    event.refresh_from_db()
    assert (event.delivery_status, event.source_id) == ("queued", f"P{event.outbox.pk}-1")


@pytest.mark.django_db(transaction=True)
def test_ten_workers_delivering_one_row_send_it_once(sender, concurrently):
    event = outbox.send(customer=customer_with_phone(), channel="sms", body="hi")

    results = concurrently(outbox.deliver, [(event.outbox.pk,)] * 10)

    assert sender.calls == [event.outbox.pk]
    assert results.count("sent") >= 1


@pytest.mark.django_db(transaction=True)
def test_deliver_refuses_to_run_inside_a_transaction():
    event = outbox.send(customer=customer_with_phone(), channel="sms", body="hi")

    with pytest.raises(RuntimeError), transaction.atomic():
        outbox.deliver(event.outbox.pk)


def test_a_transient_error_is_retried_with_growing_waits(sender):
    sender.errors = [outbox.SendError("busy", code="429")] * 2
    event = outbox.send(customer=customer_with_phone(), channel="sms", body="hi")
    waits = []

    for _ in range(3):
        started = timezone.now()
        status = outbox.deliver(event.outbox.pk)
        item = Outbox.objects.get(pk=event.outbox.pk)
        if status == "pending":
            waits.append(item.next_attempt_at - started)

    assert status == "sent" and item.attempts == 3
    assert timedelta(seconds=29) < waits[0] < waits[1]


def test_a_crashing_sender_leaves_the_row_for_reconciliation(sender):
    sender.errors = [ValueError("a bug")]
    event = outbox.send(customer=customer_with_phone(), channel="sms", body="hi")

    assert outbox.deliver(event.outbox.pk) == "reconcile"
    assert outbox.deliver(event.outbox.pk) == "reconcile"
    assert len(sender.calls) == 1


def test_the_sweep_enqueues_due_rows_once_and_leaves_the_rest(django_capture_on_commit_callbacks):
    customer = customer_with_phone()
    due, later, sent = (outbox.send(customer=customer, channel="sms", body=b) for b in "abc")
    past = timezone.now() - timedelta(seconds=1)
    Outbox.objects.filter(pk=due.outbox.pk).update(next_attempt_at=past)
    Outbox.objects.filter(pk=sent.outbox.pk).update(status="sent", next_attempt_at=past)

    with django_capture_on_commit_callbacks() as callbacks:
        first = outbox.sweep()
    second = outbox.sweep()

    assert first == {"enqueued": 1, "reconcile": 0}
    assert len(callbacks) == 1
    assert second["enqueued"] == 0  # leased while it waits in the queue
    assert Outbox.objects.get(pk=later.outbox.pk).status == "pending"


def test_the_sweep_hands_abandoned_sends_to_reconciliation(settings):
    event = outbox.send(customer=customer_with_phone(), channel="sms", body="hi")
    long_ago = timezone.now() - timedelta(seconds=settings.OUTBOX_STALE_AFTER + 1)
    Outbox.objects.filter(pk=event.outbox.pk).update(status="sending", claimed_at=long_ago)

    assert outbox.sweep()["reconcile"] == 1

    assert Outbox.objects.get(pk=event.outbox.pk).status == "reconcile"
    event.refresh_from_db()
    assert event.delivery_status == "unconfirmed"


def test_the_sweep_leaves_recent_sends_alone():
    event = outbox.send(customer=customer_with_phone(), channel="sms", body="hi")
    Outbox.objects.filter(pk=event.outbox.pk).update(status="sending", claimed_at=timezone.now())

    assert outbox.sweep()["reconcile"] == 0
    assert Outbox.objects.get(pk=event.outbox.pk).status == "sending"


def test_agents_see_the_outbox_with_delivery_status_read_only(client, agent):
    event = outbox.send(customer=customer_with_phone(), channel="sms", body="hi")
    client.force_login(agent)

    listing = client.get("/admin/conversations/outbox/")
    detail = client.get(f"/admin/conversations/outbox/{event.outbox.pk}/change/")

    assert listing.status_code == 200
    assert "pending" in listing.content.decode()
    assert detail.status_code == 200
    assert client.get("/admin/conversations/outbox/add/").status_code == 403
