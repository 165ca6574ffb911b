from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from commerce.ingest import ingest_event
from commerce.models import Cart, CartItem, Order, Product, ProductInterest
from conversations.models import Conversation, Event
from tests.commerce.helpers import BIKE, T900, cart, order, view
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_a_cart_snapshot_replaces_the_cart_and_keeps_its_value():
    customer = CustomerFactory()

    cart(customer, "c-1", [T900])
    event = cart(customer, "c-2", [T900, BIKE])

    current = Cart.objects.get(customer=customer)
    assert current.status == Cart.Status.OPEN
    assert current.value == Decimal("2298.00")  # 1299 + 2 x 499.50
    assert current.item_count == 3 and current.currency == "USD"
    assert current.snapshot_event == event
    assert list(current.items.values_list("sku", "quantity", "unit_price")) == [
        ("T900", 1, Decimal("1299.00")),
        ("B200", 2, Decimal("499.50")),
    ]
    assert event.kind == "cart" and event.channel == "api" and event.source_id == "c-2"
    assert event.body == "Cart: 3 items, USD 2298.00"
    assert event.data["value"] == "2298.00" and len(event.data["items"]) == 2
    assert set(Product.objects.values_list("sku", flat=True)) == {"T900", "B200"}


def test_the_shops_own_cart_value_wins_over_the_sum_of_lines():
    customer = CustomerFactory()

    ingest_event(
        customer=customer,
        event_id="c-1",
        type="cart_updated",
        payload={"currency": "usd", "items": [T900], "value": 1199},  # after a discount
    )

    current = Cart.objects.get()
    assert current.value == Decimal("1199.00") and current.currency == "USD"


def test_a_late_older_snapshot_does_not_overwrite_a_newer_one():
    customer = CustomerFactory()
    now = timezone.now()

    cart(customer, "c-2", [T900, BIKE], occurred_at=now)
    cart(customer, "c-1", [T900], occurred_at=now - timedelta(minutes=5))

    assert Cart.objects.get().item_count == 3
    assert Event.objects.filter(kind="cart").count() == 2  # both are in the history


def test_commerce_events_do_not_count_as_the_customer_speaking():
    customer = CustomerFactory()

    cart(customer, "c-1", [T900])

    conversation = Conversation.objects.get(customer=customer)
    assert conversation.last_inbound_at is None and conversation.last_channel == ""
    assert conversation.unread_count == 0 and conversation.current_case is None
    assert conversation.last_event_at is not None


def test_checkout_then_order_closes_the_cart_and_the_next_snapshot_opens_a_new_one():
    customer = CustomerFactory()
    cart(customer, "c-1", [T900])

    ingest_event(customer=customer, event_id="k-1", type="checkout_started", payload={})
    assert Cart.objects.get().status == Cart.Status.CHECKOUT
    order(customer, "o-1")
    cart(customer, "c-2", [BIKE])

    closed, current = Cart.objects.order_by("pk")
    assert closed.status == Cart.Status.ORDERED and closed.ordered_at is not None
    assert current.status == Cart.Status.OPEN and current.item_count == 2
    placed = Order.objects.get()
    assert placed.cart == closed and placed.total == Decimal("1299.00")
    assert placed.items == [
        {"sku": "T900", "name": "T900 treadmill", "quantity": 1, "unit_price": "1299.00"}
    ]


def test_a_snapshot_from_before_the_order_does_not_reopen_the_cart():
    customer = CustomerFactory()
    now = timezone.now()
    cart(customer, "c-1", [T900], occurred_at=now - timedelta(minutes=10))
    order(customer, "o-1", occurred_at=now - timedelta(minutes=5))

    cart(customer, "c-0", [T900, BIKE], occurred_at=now - timedelta(minutes=7))  # late

    assert not Cart.objects.filter(status__in=Cart.ACTIVE).exists()


def test_the_same_order_under_a_new_event_id_is_not_a_second_order():
    customer = CustomerFactory()

    order(customer, "o-1")
    order(customer, "o-1-resent")

    assert Order.objects.count() == 1
    assert Event.objects.filter(kind="order").count() == 2


def test_product_views_refresh_the_catalogue_and_count_interest():
    customer = CustomerFactory()
    earlier = timezone.now() - timedelta(days=1)

    view(customer, "v-1", occurred_at=earlier)
    ingest_event(
        customer=customer,
        event_id="v-2",
        type="product_viewed",
        payload={"sku": "T900", "name": "T900 Pro treadmill", "needs_assembly": True},
    )
    ingest_event(
        customer=customer,
        event_id="v-3",
        type="product_viewed",
        payload={"sku": "T900", "name": "T900 Pro treadmill"},
    )

    product = Product.objects.get()
    assert product.name == "T900 Pro treadmill" and product.needs_assembly
    assert product.price == Decimal("1299.00")  # left out the second time, so kept
    interest = ProductInterest.objects.get()
    assert interest.views == 3 and interest.first_viewed_at == earlier
    assert interest.last_viewed_at > earlier


def test_an_emptied_cart_keeps_no_lines():
    customer = CustomerFactory()
    cart(customer, "c-1", [T900])

    event = cart(customer, "c-2", [])

    assert Cart.objects.get().item_count == 0 and not CartItem.objects.exists()
    assert event.body == "Emptied the cart"


def test_widget_events_are_journalled_on_the_web_channel():
    customer = CustomerFactory()

    event = ingest_event(
        customer=customer,
        event_id="w-1",
        type="page_viewed",
        payload={"url": "/products/t900", "title": "T900"},
        channel="web",
    )

    assert (event.channel, event.kind, event.direction) == ("web", "page_view", "internal")
    assert event.body == "Viewed T900"
    # the same id from the shop's server is another event: ids are per channel
    assert (
        ingest_event(customer=customer, event_id="w-1", type="page_viewed", payload={"url": "/"}).pk
        != event.pk
    )


def test_an_event_for_a_merged_customer_lands_with_the_survivor():
    from conversations.identities import merge_customers

    older, newer = CustomerFactory(), CustomerFactory()
    merge_customers(older, newer)

    event = cart(newer, "c-1", [T900])

    assert event.conversation.customer_id == older.pk
    assert Cart.objects.get().customer == older
