"""What the console reads of the customer context: the core's typed parts (the scan in
store, the current intent) and the outer apps' JSON view (commerce's cart value)."""

from decimal import Decimal

import pytest
from django.utils import timezone

from commerce.models import Cart, Product, ProductInterest
from console.canned import variables
from console.suggestions import suggest
from conversations.context import build_context
from conversations.identities import resolve_customer
from instore.scans import record_scan
from tests.instore.factories import PlacementFactory

pytestmark = pytest.mark.django_db


def test_a_canned_response_names_the_product_and_the_store_of_a_scan(agent):
    placement = PlacementFactory()
    record_scan(placement=placement, visitor_id="v_canned")
    customer = resolve_customer("visitor", "v_canned", display_name="Dana Reyes")

    values = variables(build_context(customer), agent=agent)

    assert values["first_name"] == "Dana"
    assert values["product"] == placement.product.name
    assert values["store"] == placement.store.name
    assert values["cart_value"] == ""


def test_a_canned_response_names_the_cart_value_and_the_product_evaluated(agent):
    customer = resolve_customer("email", "eve@example.org")
    Cart.objects.create(customer=customer, value=Decimal("1299.00"), item_count=1)

    values = variables(build_context(customer), agent=agent)

    assert values["cart_value"] == "1299.00"
    assert (values["product"], values["store"]) == ("", "")  # a cart names no one product


def test_suggestions_read_the_scan_and_the_product_being_evaluated():
    placement = PlacementFactory()
    record_scan(placement=placement, visitor_id="v_suggest")
    in_store = resolve_customer("visitor", "v_suggest")
    evaluating = resolve_customer("email", "fay@example.org")
    product = Product.objects.create(sku="R2-ROWER", name="R2 Rower", url="https://x.test/r2")
    now = timezone.now()
    ProductInterest.objects.create(
        customer=evaluating, product=product, views=3, first_viewed_at=now, last_viewed_at=now
    )

    [scan] = [s for s in suggest(build_context(in_store)) if s.action == "in_store"]
    [choice] = [s for s in suggest(build_context(evaluating)) if s.action == "product"]

    assert scan.label == f"Help with the {placement.product.name} in store"
    assert scan.reason.startswith(f"Scanned it at {placement.store.name} ")
    assert (choice.label, choice.reason) == (
        "Help with the choice of the R2 Rower",
        "Viewed 3 times and not bought",
    )
