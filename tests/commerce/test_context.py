"""commerce.context.provide through build_context: cart, products viewed, intent, greeting."""

from datetime import timedelta

import pytest
from django.utils import timezone

from commerce.ingest import ingest_event
from conversations.context import build_context, greeting
from tests.commerce.helpers import BIKE, T900, cart, order, view
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_a_product_viewed_recently_is_being_evaluated():
    customer = CustomerFactory()
    view(
        customer,
        "v-1",
        sku="B200",
        name="B200 bike",
        occurred_at=timezone.now() - timedelta(hours=2),
    )
    view(customer, "v-2")
    view(customer, "v-3")

    context = build_context(customer)

    assert context.extra["current_intent"] == {
        "kind": "evaluating", "sku": "T900", "name": "T900 treadmill", "views": 2,
    }  # fmt: skip
    assert [p["sku"] for p in context.extra["products_viewed"]] == ["T900", "B200"]
    assert greeting(context) == "Can I help you with your evaluation of the T900 treadmill?"


def test_an_open_cart_filled_after_the_views_leads_the_greeting():
    customer = CustomerFactory()
    view(customer, "v-1", occurred_at=timezone.now() - timedelta(minutes=5))
    cart(customer, "c-1", [T900, BIKE])

    context = build_context(customer)

    assert context.extra["cart_value"] == "2298.00"
    assert context.extra["open_cart"]["item_count"] == 3
    assert context.extra["current_intent"]["kind"] == "cart"
    assert greeting(context) == "Any questions about the 3 items in your cart?"


def test_a_view_after_the_cart_is_the_newer_signal():
    customer = CustomerFactory()
    cart(customer, "c-1", [BIKE], occurred_at=timezone.now() - timedelta(minutes=5))
    view(customer, "v-1")

    assert greeting(build_context(customer)).startswith("Can I help you with your evaluation")


def test_checkout_has_its_own_greeting():
    customer = CustomerFactory()
    cart(customer, "c-1", [T900])
    ingest_event(customer=customer, event_id="k-1", type="checkout_started", payload={})

    assert build_context(customer).extra["current_intent"]["kind"] == "checkout"


def test_a_bought_product_or_an_old_view_is_not_being_evaluated(settings):
    settings.COMMERCE_EVALUATION_DAYS = 14
    bought, forgotten = CustomerFactory(), CustomerFactory()
    view(bought, "v-1", occurred_at=timezone.now() - timedelta(minutes=10))
    cart(bought, "c-1", [T900], occurred_at=timezone.now() - timedelta(minutes=9))
    order(bought, "o-1")
    view(forgotten, "v-2", occurred_at=timezone.now() - timedelta(days=15))

    for customer in (bought, forgotten):
        context = build_context(customer)
        assert context.extra["current_intent"] is None
        assert context.extra["open_cart"] is None
        assert greeting(context) == settings.WIDGET_DEFAULT_GREETING
    assert build_context(bought).extra["last_order"]["total"] == "1299.00"


def test_an_empty_cart_is_no_open_cart():
    customer = CustomerFactory()
    cart(customer, "c-1", [T900])
    cart(customer, "c-2", [])

    assert build_context(customer).extra["open_cart"] is None


def test_the_context_costs_the_same_queries_however_long_the_history(django_assert_max_num_queries):
    customer = CustomerFactory()
    for n in range(30):
        view(customer, f"v-{n}", sku=f"S{n}", name=f"Product {n}")
        cart(customer, f"c-{n}", [T900, BIKE])

    # a fixed number, whatever the history: the personas (insights) read one, WhatsApp's
    # window one (only for a customer who has WhatsApp), the shop's numbers one
    with django_assert_max_num_queries(15):
        build_context(customer)
