"""Backends that do not really send say so on the timeline: "not sent: console backend",
never queued or delivered."""

import io

import pytest

from channels_adapters.sms.backends import ConsoleBackend
from conversations.delivery import update_delivery_status
from conversations.identities import resolve_customer
from conversations.models import Outbox
from conversations.outbox import deliver, send

pytestmark = pytest.mark.django_db
PHONE = "+14155550160"


@pytest.fixture
def customer():
    customer = resolve_customer("phone", PHONE)
    customer.identities.update(consented_at="2026-01-01T00:00:00Z")
    return customer


@pytest.mark.parametrize(
    ("backend", "said"),
    [
        ("channels_adapters.sms.backends.ConsoleBackend", "not sent: console backend"),
        ("channels_adapters.sms.backends.LocmemBackend", "not sent: locmem backend"),
    ],
)
def test_a_stand_in_backend_records_not_sent(settings, customer, backend, said, monkeypatch):
    settings.SMS_BACKEND = backend
    monkeypatch.setattr(ConsoleBackend, "stream", io.StringIO())
    event = send(customer=customer, channel="sms", body="Your bike is ready")

    assert deliver(event.outbox.pk) == Outbox.Status.SENT

    event.refresh_from_db()
    assert event.delivery_status == said
    # a late "queued" cannot make it look on its way; only a provider's own word moves it
    assert not update_delivery_status(event, "queued")
    assert update_delivery_status(event, "delivered")
