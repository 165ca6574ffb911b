"""The one-query headline says what the full customer context says, for every greeting."""

from datetime import timedelta

import pytest
from django.utils import timezone

from channels_adapters.voice import twiml
from commerce.ingest import ingest_event
from conversations import journal
from conversations.context import build_context, headline_for
from conversations.models import Event, Identity
from instore.models import Scan
from tests.commerce.helpers import BIKE, T900, cart, order, view
from tests.factories import CustomerFactory
from tests.instore.factories import PlacementFactory, StoreFactory

pytestmark = pytest.mark.django_db

PHONE = "+14155550199"


def _with_cart(customer):
    cart(customer, "c-1", [T900, BIKE])


def _in_checkout(customer):
    cart(customer, "c-1", [T900])
    ingest_event(
        customer=customer,
        event_id="co-1",
        type="checkout_started",
        payload={"currency": "USD", "items": [T900]},
    )


def _evaluating(customer):
    view(customer, "v-1")
    view(customer, "v-2")


def _evaluated_then_bought(customer):
    view(customer, "v-1")
    order(customer, "o-1")


def _viewed_long_ago(customer):
    view(customer, "v-1", occurred_at=timezone.now() - timedelta(days=60))


def _viewed_after_the_cart(customer):
    cart(customer, "c-1", [BIKE], occurred_at=timezone.now() - timedelta(hours=2))
    view(customer, "v-1")


def _in_store(customer):
    placement = PlacementFactory(store=StoreFactory(business_hours={}))
    Identity.objects.create(customer=customer, kind="visitor", value="v-9")
    Scan.objects.create(placement=placement, store=placement.store, visitor_id="v-9", source_id="s")


def _scanned_hours_ago(customer):
    _in_store(customer)
    Scan.objects.update(scanned_at=timezone.now() - timedelta(hours=5))


def _open_case(customer):
    journal.record(
        customer=customer,
        channel=Event.Channel.SMS,
        kind="message",
        direction=Event.Direction.IN,
        body="Where is my order?",
    )


SCENARIOS = [
    lambda customer: None,
    _with_cart,
    _in_checkout,
    _evaluating,
    _evaluated_then_bought,
    _viewed_long_ago,
    _viewed_after_the_cart,
    _in_store,
    _scanned_hours_ago,
    _open_case,
]


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("name", ["Dana Scully", ""])
def test_the_headline_greets_as_the_full_context_does(scenario, name):
    customer = CustomerFactory(display_name=name)
    Identity.objects.create(customer=customer, kind="phone", value=PHONE)
    scenario(customer)

    headline = headline_for("phone", PHONE)
    context = build_context(customer)

    assert headline.customer_id == customer.pk and headline.name == name
    for key in ("current_intent", "in_store"):
        assert headline.extra[key] == context.extra[key]
    assert (headline.open_case and headline.open_case.pk) == (
        context.open_case and context.open_case.pk
    )
    assert twiml.greeting(headline) == twiml.greeting(context)


def test_the_headline_is_one_query_and_none_for_a_stranger(django_assert_num_queries):
    customer = CustomerFactory(display_name="Dana")
    Identity.objects.create(customer=customer, kind="phone", value=PHONE)
    _with_cart(customer)
    _in_store(customer)
    _open_case(customer)

    with django_assert_num_queries(1):
        headline = headline_for("phone", PHONE)

    assert headline.extra["current_intent"]["names"] == ["T900 treadmill", "B200 bike"]
    assert headline.extra["in_store"]["store"]["name"] == "Downtown"
    assert headline_for("phone", "+14155550000") is None
