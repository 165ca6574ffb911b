"""Routing and the after-hours answer find the store a number belongs to."""

import pytest

from conversations.models import Event, Identity
from engagement.rules.after_hours import _store_for
from routing import hours as routing_hours
from tests.factories import CustomerFactory

from .conftest import ACCOUNT_B, NUMBER_A, NUMBER_B, SHOPPER, TOKEN_B, UNKNOWN, sms_sid

pytestmark = pytest.mark.django_db
WEEK = {"mon": [["09:00", "18:00"]]}


def with_hours(*stores):
    for store in stores:
        store.business_hours = WEEK
        store.save()


def test_routing_reads_the_hours_of_the_store_whose_number_was_texted(shop):
    with_hours(shop["downtown"], shop["harbor"])
    stores = routing_hours.stores_with_hours()

    assert routing_hours.store_for(stores, NUMBER_B) == shop["harbor"]
    assert routing_hours.store_for(stores, f"whatsapp:{NUMBER_B}") == shop["harbor"]
    assert routing_hours.store_for(stores, NUMBER_A) == shop["downtown"]
    assert routing_hours.store_for(stores, UNKNOWN) == shop["downtown"]  # the main store


def test_the_after_hours_answer_speaks_for_the_store_texted(shop, webhooks):
    with_hours(shop["downtown"], shop["harbor"])
    webhooks.sms(to=NUMBER_B, account=ACCOUNT_B, token=TOKEN_B, sid=sms_sid(1))
    event = Event.objects.get(kind="message")
    customer = Identity.objects.get(value=SHOPPER).customer

    assert _store_for(event, customer) == shop["harbor"]
    assert _store_for(Event(channel="sms", data={"to": UNKNOWN}), CustomerFactory()) is None
