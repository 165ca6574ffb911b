"""`manage.py seed_demo`: the demo shop's events read as real ones do, and twice is once."""

from datetime import UTC, datetime, timedelta
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
from engagement.models import Nudge
from insights import figures
from insights.filters import Filters
from instore import hours
from instore.models import Store
from instore.scans import record_scan
from routing.models import ScheduledCallBack
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
    seeded = list(
        Event.objects.filter(kind__in=["scan", "cart", "order"]).exclude(
            # seed_journeys' history: written in SQL, not by these verbs
            conversation__customer__in=Customer.objects.filter(traits__seed=True)
        )
    )
    real = real_events()

    optional = {"customer_name"}  # an order may name its customer (docs/api.md)
    for event in seeded:
        seeded_keys = {k: v for k, v in keys(event.data).items() if k not in optional}
        assert seeded_keys == keys(real[event.kind].data), event.kind
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

    stores = Store.objects.filter(name__in=["State Street", "Union Square"]).order_by("name")
    assert [store.name for store in stores] == ["State Street", "Union Square"]
    assert all(hours.describe(store) for store in stores)
    assert response.status_code == 200
    page = response.content.decode()
    assert "treadmill row, by the window" in page
    assert "rowing corner, first floor" in page


@time_machine.travel(datetime(2026, 12, 6, 18, 0, tzinfo=UTC), tick=False)  # a Sunday noon
def test_every_state_of_the_demo_exists_and_every_insights_figure_has_rows():
    seed()

    def who(kind, value):
        return customer(kind, value)

    # waiting for a scheduled call back
    leo = who("phone", "+13125550161")
    assert ScheduledCallBack.objects.get(customer=leo).status == "scheduled"
    # after hours: the case waits for the opening, and the acknowledgement went out
    ines = who("phone", "+13125550162")
    assert Event.objects.filter(conversation__customer=ines, data__action="after_hours").exists()
    assert Nudge.objects.get(customer=ines, rule="after_hours").status == "sent"
    # nudged: the cart reminder, on the web
    noah = who("visitor", "demo-visitor-2b8e41")
    reminder = Nudge.objects.get(customer=noah, rule="cart_abandoned")
    assert (reminder.status, reminder.channel) == ("sent", "web")
    # opted out
    olivia = Identity.objects.get(kind="phone", value="+14155550163")
    assert olivia.opted_out_at is not None
    # merged from two channels, named by her order
    grace = who("phone", "+14155550164")
    assert grace == who("visitor", "demo-visitor-c41d07")
    assert Customer.objects.filter(merged_into=grace).count() == 1
    assert set(
        grace.conversation.events.filter(kind="message").values_list("channel", flat=True)
    ) == {"web", "sms"}
    assert (grace.display_name, grace.name_source) == ("Grace Liu", "order:DEMO-1002")
    # hot after missed calls, in store, with an order (the earlier stories)
    priya = who("phone", "+14155550147")
    assert Case.objects.get(pk=priya.conversation.current_case_id).priority == Case.Priority.HOT

    period = Filters.last_days(70)
    empty = [key for key, figure in figures.FIGURES.items() if not figure(period).rows]
    assert empty == []
