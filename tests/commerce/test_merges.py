from datetime import timedelta

import pytest
from django.utils import timezone

from commerce.models import Cart, Order, ProductInterest
from conversations.identities import link_identity, merge_customers
from tests.commerce.helpers import BIKE, T900, cart, order, view
from tests.factories import CustomerFactory, IdentityFactory

pytestmark = pytest.mark.django_db


def test_a_merge_moves_carts_orders_and_interest_to_the_survivor():
    survivor, merged = CustomerFactory(), CustomerFactory()
    order(merged, "o-1")
    cart(merged, "c-1", [BIKE])
    view(merged, "v-1")
    view(survivor, "v-2")

    merge_customers(merged, survivor)

    assert set(Cart.objects.values_list("customer", flat=True)) == {survivor.pk}
    assert Order.objects.get().customer == survivor
    interest = ProductInterest.objects.get()
    assert interest.customer == survivor and interest.views == 2
    assert Cart.objects.get(status=Cart.Status.OPEN).item_count == 2


def test_when_both_have_a_cart_the_newer_stays_active_and_the_other_is_kept():
    survivor, merged = CustomerFactory(), CustomerFactory()
    now = timezone.now()
    cart(survivor, "c-1", [T900], occurred_at=now - timedelta(hours=1))
    cart(merged, "c-2", [BIKE], occurred_at=now)

    merge_customers(survivor, merged)

    active = Cart.objects.get(status__in=Cart.ACTIVE)
    assert active.customer == survivor and active.items.get().sku == "B200"
    older = Cart.objects.get(status=Cart.Status.MERGED)
    assert older.customer == survivor and older.items.get().sku == "T900"


def test_linking_an_identity_merges_commerce_through_the_hook():
    web = CustomerFactory()
    shop = CustomerFactory()
    IdentityFactory(customer=shop, kind="external", value="shop-42")
    cart(web, "c-1", [T900])

    survivor = link_identity(web, "external", "shop-42", verified=True)

    assert Cart.objects.get().customer == survivor
