"""`in_store` in the customer context: where she is and what she looks at, for a while."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from conversations.context import InStore, build_context
from conversations.identities import link_identity, resolve_customer
from conversations.visitors import new_visitor_id
from instore.context import provide
from instore.scans import record_scan
from tests.instore.factories import PlacementFactory

pytestmark = pytest.mark.django_db


def test_a_recent_scan_puts_her_in_the_store_at_the_product():
    placement = PlacementFactory()
    visitor_id = new_visitor_id()
    scan = record_scan(placement=placement, visitor_id=visitor_id)

    in_store = provide(resolve_customer("visitor", visitor_id)).as_extra()["in_store"]

    assert in_store == {
        "store": {"id": placement.store.pk, "name": "Downtown", "time_zone": "America/New_York"},
        "product": {
            "id": placement.product.pk,
            "sku": "T900",
            "name": "T900 Folding Treadmill",
            "price": "1299.00",
            "currency": "USD",
        },
        "placement": {"id": placement.pk, "label": "aisle 4, end cap"},
        "scanned_at": scan.scanned_at.isoformat(),
    }


def test_the_latest_scan_wins_and_it_fades_after_the_window(settings):
    treadmill = PlacementFactory()
    bike = PlacementFactory(product__sku="B300", product__name="B300 Studio Bike")
    visitor_id = new_visitor_id()
    start = timezone.now()
    record_scan(placement=treadmill, visitor_id=visitor_id, at=start - timedelta(minutes=20))
    record_scan(placement=bike, visitor_id=visitor_id, at=start - timedelta(minutes=5))
    customer = resolve_customer("visitor", visitor_id)

    now = provide(customer).as_extra()["in_store"]
    with time_machine.travel(start + timedelta(minutes=settings.INSTORE_PRESENCE_MINUTES)):
        later = provide(customer).as_extra()["in_store"]

    assert now["product"]["name"] == "B300 Studio Bike"
    assert later is None


def test_it_follows_the_scan_into_a_merged_customer():
    placement = PlacementFactory()
    visitor_id = new_visitor_id()
    record_scan(placement=placement, visitor_id=visitor_id)
    phone_customer = resolve_customer("phone", "+14155550123")

    survivor = link_identity(phone_customer, "visitor", visitor_id)

    assert provide(survivor).visit.store_name == "Downtown"


def test_a_customer_who_never_scanned_is_nowhere():
    assert provide(resolve_customer("phone", "+14155550123")).visit is None


def test_build_context_carries_it_through_the_provider_registry():
    placement = PlacementFactory()
    visitor_id = new_visitor_id()
    record_scan(placement=placement, visitor_id=visitor_id)

    context = build_context(resolve_customer("visitor", visitor_id))

    assert context.part(InStore).visit.product["sku"] == "T900"
    assert context.extra["in_store"]["product"]["sku"] == "T900"  # and its JSON view


def test_the_widget_greets_her_about_what_she_is_looking_at_in_the_store():
    from conversations.context import greeting

    placement = PlacementFactory()
    visitor_id = new_visitor_id()
    customer = resolve_customer("visitor", visitor_id)
    before = greeting(build_context(customer))
    record_scan(placement=placement, visitor_id=visitor_id)

    after = greeting(build_context(customer))

    assert "Downtown" not in before
    assert after == (
        "You're looking at the T900 Folding Treadmill at Downtown — what would you like to know?"
    )
