from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from commerce.models import Cart, Order, Product
from conversations.identities import resolve_customer
from conversations.models import Customer, Event, Identity
from conversations.visitors import issue_visitor_token
from tests.api.helpers import event

pytestmark = pytest.mark.django_db

URL = "/api/v1/events"


def test_it_ingests_a_batch_of_every_type_into_one_conversation(api):
    batch = [
        event("e-1", "page_viewed"),
        event("e-2", "product_viewed"),
        event("e-3", "cart_updated"),
        event("e-4", "checkout_started"),
        event("e-5", "order_placed"),
    ]

    response = api.post(URL, {"events": batch}, check_request=True)

    assert response.status_code == 200
    body = response.json()
    assert body["accepted"] == 5 and body["duplicates"] == 0
    customer = Identity.objects.get(kind="external", value="shopper-1").customer
    assert [r["seq"] for r in body["results"]] == [1, 2, 3, 4, 5]
    assert {r["customer"] for r in body["results"]} == {customer.pk}
    kinds = list(
        Event.objects.filter(conversation__customer=customer)
        .order_by("seq")
        .values_list("channel", "kind", "source_id")
    )
    assert kinds == [
        ("api", "page_view", "e-1"),
        ("api", "product_view", "e-2"),
        ("api", "cart", "e-3"),
        ("api", "checkout", "e-4"),
        ("api", "order", "e-5"),
    ]
    cart = Cart.objects.get(customer=customer)
    assert cart.status == Cart.Status.ORDERED and cart.value == Decimal("1299.00")
    order = Order.objects.get(external_id="1001")
    assert order.customer == customer and order.cart == cart
    assert Product.objects.get(sku="T900").price == Decimal("1299.00")


def test_customers_are_found_by_each_kind_of_reference(api):
    known = resolve_customer("email", "ana@example.com")
    token = issue_visitor_token("v_browser1")
    batch = [
        event("e-1", customer={"external_id": "shop-42", "name": "Ana Lima"}),
        event("e-2", customer={"email": " Ana@Example.com "}),
        event("e-3", customer={"phone": "+1 415 555 0132"}),
        event("e-4", customer={"visitor_token": token}),
    ]

    results = api.post(URL, {"events": batch}).json()["results"]

    assert results[1]["customer"] == known.pk
    assert Customer.objects.get(pk=results[0]["customer"]).display_name == "Ana Lima"
    assert Identity.objects.get(customer=results[2]["customer"]).value == "+14155550132"
    assert Identity.objects.get(customer=results[3]["customer"]).value == "v_browser1"


def test_a_repeated_event_id_is_accepted_and_ignored(api):
    first = api.post(URL, {"events": [event("e-1", "cart_updated")]}).json()
    changed = event("e-1", "cart_updated", payload={"currency": "EUR", "items": []})

    again = api.post(URL, {"events": [changed, event("e-2")]}).json()

    assert again["accepted"] == 1 and again["duplicates"] == 1
    assert again["results"][0] == {**first["results"][0], "status": "duplicate"}
    assert Event.objects.filter(source_id="e-1").count() == 1
    cart = Cart.objects.get()
    assert cart.currency == "USD" and cart.items.count() == 1  # the repeat changed nothing


def test_the_same_event_id_twice_in_one_batch_is_stored_once(api):
    body = api.post(URL, {"events": [event("e-1"), event("e-1")]}).json()

    assert [r["status"] for r in body["results"]] == ["accepted", "duplicate"]
    assert body["results"][0]["seq"] == body["results"][1]["seq"]
    assert Event.objects.count() == 1


def test_events_keep_their_order_per_customer_and_their_occurred_at(api):
    at = timezone.now() - timedelta(hours=2)
    batch = [
        event("a-1", customer={"external_id": "b"}),
        event("b-1", customer={"external_id": "a"}, occurred_at=at.isoformat()),
        event("a-2", customer={"external_id": "b"}),
        event("b-2", customer={"external_id": "a"}),
    ]

    results = api.post(URL, {"events": batch}).json()["results"]

    assert [r["seq"] for r in results] == [1, 1, 2, 2]
    assert Event.objects.get(source_id="b-1").occurred_at == at


def test_a_full_batch_of_500_is_taken(api):
    batch = [event(f"e-{n}", customer={"external_id": f"c-{n % 7}"}) for n in range(500)]

    body = api.post(URL, {"events": batch}).json()

    assert body["accepted"] == 500
    assert Event.objects.count() == 500
