"""Customers who can be nudged, a fixed clock, commerce events with their hooks run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from channels_adapters.sms.backends import LocmemBackend
from conversations.models import Identity
from engagement import sweeps
from engagement.models import Nudge
from tests.commerce import helpers as shop
from tests.factories import CustomerFactory

PHONE = "+14155550123"  # San Francisco: America/Los_Angeles
SHOP_NUMBER = "+14155550100"
# Tuesday 10 March 2026, 10:00 in San Francisco (PDT, UTC-7): well inside 08:00-21:00.
MORNING = datetime(2026, 3, 10, 17, 0, tzinfo=UTC)
T900 = {"sku": "T900", "name": "T900 treadmill", "quantity": 1, "price": "1999.00"}


@pytest.fixture(autouse=True)
def engagement_settings(settings):
    settings.PUBLIC_BASE_URL = "https://shop.example.com"
    settings.ENGAGEMENT_GATES = []  # the built-in checks only, unless a test adds one
    settings.ENGAGEMENT_FREQUENCY_CAPS = ["1/24h", "3/7d"]
    settings.ENGAGEMENT_SEND_WINDOW = "08:00-21:00"
    return settings


@pytest.fixture
def sent_sms():
    LocmemBackend.sent.clear()
    yield LocmemBackend.sent
    LocmemBackend.sent.clear()


@pytest.fixture
def clock():
    """A clock stopped at MORNING; `clock.at(delta)` moves it."""
    with time_machine.travel(MORNING, tick=False) as traveller:

        class Clock:
            start = MORNING

            def at(self, delta: timedelta) -> datetime:
                traveller.move_to(MORNING + delta)
                return timezone.now()

        yield Clock()


def shopper(*, phone: str = PHONE, consent: bool = True, visitor: bool = False, name="Dana Lee"):
    customer = CustomerFactory(display_name=name)
    if phone:
        Identity.objects.create(
            customer=customer,
            kind="phone",
            value=phone,
            consented_at=timezone.now() if consent else None,
            consent_source="checkout" if consent else "",
        )
    if visitor:
        Identity.objects.create(customer=customer, kind="visitor", value=f"v-{customer.pk}")
    return customer


@pytest.fixture
def dana(db):
    return shopper()


@pytest.fixture
def hooks(django_capture_on_commit_callbacks):
    """Run after-commit callbacks (the journal's event hooks) as they are queued."""

    def run(action, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return action(*args, **kwargs)

    return run


@pytest.fixture
def text_us(hooks):
    """An inbound SMS from `sender` to the shop's number, hooks run."""
    from channels_adapters.sms.inbound import InboundSms, record_inbound_sms

    counter = iter(range(1, 10_000))

    def text(body: str, *, sender: str = PHONE, to: str = SHOP_NUMBER):
        sid = f"SM{next(counter):032x}"
        message = InboundSms(sid=sid, from_number=sender, to=to, body=body)
        return hooks(record_inbound_sms, message)[0]

    return text


@pytest.fixture
def fill_cart(hooks):
    counter = iter(range(1, 10_000))

    def fill(customer, items=(T900,)):
        return hooks(shop.cart, customer, f"cart-{next(counter)}", list(items))

    return fill


@pytest.fixture
def sweep(django_capture_on_commit_callbacks):
    def run() -> dict:
        with django_capture_on_commit_callbacks(execute=False):  # deliveries stay queued
            return sweeps.sweep()

    return run


def nudges(**filters) -> list[Nudge]:
    return list(Nudge.objects.filter(**filters).order_by("pk"))


def decision_events(customer):
    return list(customer.conversation.events.filter(kind="nudge").order_by("seq"))
