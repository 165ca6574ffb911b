"""Events as a shop would send them."""


def event(event_id="e-1", type="page_viewed", customer=None, payload=None, **extra):
    """One event as a shop would send it."""
    payloads = {
        "page_viewed": {"url": "https://shop.example/t900", "title": "T900"},
        "product_viewed": {"sku": "T900", "name": "T900 treadmill", "price": "1299.00",
                           "currency": "USD"},
        "cart_updated": {"currency": "USD",
                         "items": [{"sku": "T900", "name": "T900 treadmill", "quantity": 1,
                                    "price": "1299.00"}]},
        "checkout_started": {},
        "order_placed": {"order_id": "1001", "currency": "USD",
                         "items": [{"sku": "T900", "name": "T900 treadmill", "quantity": 1,
                                    "price": "1299.00"}]},
    }  # fmt: skip
    return {
        "event_id": event_id,
        "type": type,
        "customer": customer or {"external_id": "shopper-1"},
        "payload": payloads.get(type, {}) if payload is None else payload,
        **extra,
    }
