"""The one-query headline says what the full customer context says, for every greeting."""

from datetime import timedelta

import pytest
from django.utils import timezone

from channels_adapters.voice import twiml
from commerce.ingest import ingest_event
from commerce.models import Order
from conversations import journal
from conversations.context import Purchases, build_context, headline_for, headline_of
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
    Scan.objects.create(
        placement=placement,
        store=placement.store,
        visitor_id="v-9",
        customer=customer,  # as record_scan keys it: the visitor id is the customer's
        source_id="s",
    )


def _scanned_hours_ago(customer):
    _in_store(customer)
    Scan.objects.update(scanned_at=timezone.now() - timedelta(hours=5))


def _ordered_and_delivered(customer):
    order(customer, "o-1")
    order(customer, "o-2", order_id="1002")
    Order.objects.filter(external_id="1002").update(
        # fractions of a second PostgreSQL's JSON writes in fewer digits than Python does
        placed_at=timezone.now().replace(microsecond=120_000) - timedelta(days=2),
        delivered_at=timezone.now().replace(microsecond=0) - timedelta(hours=3),
    )


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
    _ordered_and_delivered,
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
    for key in ("current_intent", "in_store", "last_order", "cart_value"):
        assert headline.extra[key] == context.extra[key]
    assert headline.part(Purchases) == context.part(Purchases)
    assert headline_of(customer.pk) == headline
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


def test_the_headline_of_a_customer_is_one_query_with_what_routing_reads(
    django_assert_num_queries,
):
    customer = CustomerFactory(display_name="Dana")  # no identity: read by id
    order(customer, "o-1")
    _with_cart(customer)  # a new cart, after the order

    with django_assert_num_queries(1):
        headline = headline_of(customer.pk)

    purchases = headline.part(Purchases)
    assert purchases.cart_value == "2298.00"  # T900 and bike
    assert purchases.last_order["order_id"] == "1001"
    assert headline.extra["last_order"] == build_context(customer).extra["last_order"]
    assert headline_of(customer.pk + 1000) is None
