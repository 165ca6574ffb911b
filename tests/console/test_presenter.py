"""The timeline's presentation: one line per visit (console/presenter.py); the journal
keeps every view."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from commerce.ingest import ingest_event
from console.presenter import present, same_visit
from conversations import journal
from conversations.broadcast import event_payload
from conversations.identities import resolve_customer
from conversations.models import Event

pytestmark = pytest.mark.django_db
T900_URL = "https://shop.example.com/t900"


@pytest.fixture
def customer():
    return resolve_customer("phone", "+14155550150")


def page(customer, n, url, title):
    return ingest_event(
        customer=customer,
        event_id=f"p{n}",
        type="page_viewed",
        payload={"url": url, "title": title},
    )


def product(customer, n, sku="T900", name="T900 treadmill", url=T900_URL):
    return ingest_event(
        customer=customer,
        event_id=f"v{n}",
        type="product_viewed",
        payload={"sku": sku, "name": name, "url": url, "price": "1299.00", "currency": "USD"},
    )


def lines(customer):
    events = Event.objects.filter(conversation__customer=customer).order_by("seq")
    return present([event_payload(e) for e in events])


def test_a_page_and_a_product_view_of_one_page_are_one_line(customer):
    page(customer, 1, T900_URL, "T900 treadmill | Stride")
    product(customer, 1)

    [line] = lines(customer)

    assert line["kind"] == "visit"
    assert line["body"] == "Browsed 1 page: T900 treadmill (product)"
    assert [s["sku"] for s in line["data"]["stops"]] == ["T900"]
    assert Event.objects.filter(kind__in=["page_view", "product_view"]).count() == 2  # kept


def test_one_line_per_visit_split_by_a_message_and_by_a_long_gap(customer):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        page(customer, 1, "https://shop.example.com/", "Home")
        product(customer, 1)
    with time_machine.travel(start + timedelta(minutes=5), tick=False):
        page(customer, 2, "https://shop.example.com/returns", "Delivery & returns")
        journal.record(
            customer=customer, channel="web", kind="message", direction="in", body="Folds?"
        )
        product(customer, 2, sku="B200", name="B200 bike", url="https://shop.example.com/b200")
    with time_machine.travel(start + timedelta(hours=2), tick=False):
        product(customer, 3)

    shown = [(line["kind"], line["body"]) for line in lines(customer)]

    assert shown == [
        ("visit", "Browsed 3 pages: Home, T900 treadmill (product), Delivery & returns"),
        ("message", "Folds?"),
        ("visit", "Browsed 1 page: B200 bike (product)"),
        ("visit", "Browsed 1 page: T900 treadmill (product)"),
    ]


def test_a_single_page_view_stays_as_it_was(customer):
    event = page(customer, 1, "https://shop.example.com/", "Home")

    assert lines(customer) == [event_payload(event)]


def test_a_live_view_extends_the_line_before_it_only_within_the_visit(customer):
    page(customer, 1, T900_URL, "T900")
    product(customer, 1)
    [visit] = lines(customer)
    later = {**visit, "kind": "product_view", "id": None, "data": {}}

    assert same_visit(visit, {**later, "occurred_at": visit["data"]["ended_at"]})
    far = (timezone.now() + timedelta(hours=1)).isoformat()
    assert not same_visit(visit, {**later, "occurred_at": far})
    assert not same_visit(visit, {**later, "kind": "message"})
