"""Building commerce events for tests."""

from __future__ import annotations

from commerce.ingest import ingest_event

T900 = {"sku": "T900", "name": "T900 treadmill", "quantity": 1, "price": "1299.00"}
BIKE = {"sku": "B200", "name": "B200 bike", "quantity": 2, "price": "499.50"}


def cart(customer, event_id, items, *, currency="USD", **kwargs):
    return ingest_event(
        customer=customer,
        event_id=event_id,
        type="cart_updated",
        payload={"currency": currency, "items": items},
        **kwargs,
    )


def view(customer, event_id, sku="T900", name="T900 treadmill", **kwargs):
    return ingest_event(
        customer=customer,
        event_id=event_id,
        type="product_viewed",
        payload={"sku": sku, "name": name, "price": "1299.00", "currency": "USD"},
        **kwargs,
    )


def order(customer, event_id, order_id="1001", items=(T900,), **kwargs):
    return ingest_event(
        customer=customer,
        event_id=event_id,
        type="order_placed",
        payload={"order_id": order_id, "currency": "USD", "items": list(items)},
        **kwargs,
    )
