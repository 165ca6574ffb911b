"""`manage.py seed_demo`: the demo shop's events read as real ones do, and twice is once."""

from datetime import timedelta
from io import StringIO
from urllib.parse import urlsplit

import pytest
import time_machine
from django.apps import apps
from django.core.management import call_command
from django.utils import timezone

from commerce.ingest import ingest_event
from conversations.context import build_context
from conversations.identities import resolve_customer
from conversations.models import Case, Customer, Event, Identity
from instore import hours
from instore.models import Store
from instore.scans import record_scan
from tests.instore.factories import PlacementFactory, StoreFactory

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def snapshot() -> dict:
    """Every table's row count, and every event as stored (a call's data can change)."""
    counts = {model._meta.label: model.objects.count() for model in apps.get_models()}
    events = list(Event.objects.order_by("pk").values_list("pk", "data", "delivery_status"))
    return {"counts": counts, "events": events}


def keys(value):
    """The shape of an event's data: its keys, all the way down (a list by its first item)."""
    if isinstance(value, dict):
        return {key: keys(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [keys(value[0])] if value else []
    return None


def customer(kind: str, value: str) -> Customer:
    return Identity.objects.get(kind=kind, value=value).customer


def real_events() -> dict[str, Event]:
    """A scan, a cart and an order recorded by the verbs live traffic goes through."""
    shopper = resolve_customer("visitor", "test-visitor-shape")
    placement = PlacementFactory(store=StoreFactory(name="Test store", phone=""))
    ingest = dict(customer=shopper, channel="api")
    line = {"sku": "X1", "name": "Test product", "quantity": 2, "price": "10.00"}
    return {
        "scan": Event.objects.get(
            source_id=record_scan(placement=placement, visitor_id="test-visitor-shape").source_id
        ),
        "cart": ingest_event(
            **ingest,
            event_id="test-cart",
            type="cart_updated",
            payload={"cart_id": "c1", "currency": "USD", "items": [line]},
        ),
        "order": ingest_event(
            **ingest,
            event_id="test-order",
            type="order_placed",
            payload={"order_id": "o1", "currency": "USD", "items": [line]},
        ),
    }


def test_a_second_run_changes_nothing():
    first = seed()
    after_first = snapshot()

    # the next day: the stories are told back from a later "now", and must not repeat
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        second = seed()

    assert "Seeded demo data" in first
    assert "nothing changed" in second
    assert snapshot() == after_first
    # quickstart links Dana's conversation from this line
    assert "Dana Whitfield's conversation: http" in second


def test_seeded_scans_carts_and_orders_have_the_keys_of_real_ones():
    seed()
    seeded = list(Event.objects.filter(kind__in=["scan", "cart", "order"]))
    real = real_events()

    for event in seeded:
        assert keys(event.data) == keys(real[event.kind].data), event.kind
    assert {event.kind for event in seeded} == {"scan", "cart", "order"}
    # what the timeline's scan line reads (console.js): all there, none blank
    for scan in (event for event in seeded if event.kind == "scan"):
        data = scan.data
        shown = [data["product"]["name"], data["product"]["sku"], data["store"]["name"]]
        assert all(
            isinstance(value, str) and value for value in [*shown, data["placement"]["label"]]
        )


def test_the_seeded_customers_show_a_cart_a_store_visit_an_order_and_a_hot_case():
    seed()

    dana = build_context(customer("email", "dana.whitfield@example.com")).extra
    marcus = build_context(customer("phone", "+13125550178")).extra
    priya_customer = customer("phone", "+14155550147")
    priya = build_context(priya_customer).extra

    assert [item["sku"] for item in dana["open_cart"]["items"]] == ["T900"]
    assert dana["in_store"]["store"]["name"] == "Union Square"
    assert dana["in_store"]["product"]["sku"] == "T900"
    assert dana["in_store"]["placement"]["label"]
    assert marcus["last_order"]["order_id"] == "DEMO-1001"
    assert priya["frustration"]["missed_calls"] == 2
    case = Case.objects.get(pk=priya_customer.conversation.current_case_id)
    assert case.priority == Case.Priority.HOT


def test_each_store_has_hours_and_a_printable_label(admin_client):
    output = seed()
    labels_url = next(
        line.split(": ", 1)[1] for line in output.splitlines() if line.startswith("Printable")
    )

    url = urlsplit(labels_url)
    response = admin_client.get(f"{url.path}?{url.query}")

    stores = Store.objects.order_by("name")
    assert [store.name for store in stores] == ["State Street", "Union Square"]
    assert all(hours.describe(store) for store in stores)
    assert response.status_code == 200
    page = response.content.decode()
    assert "treadmill row, by the window" in page
    assert "rowing corner, first floor" in page
