import pytest

from conversations import journal
from tests.api.helpers import event
from tests.factories import CustomerFactory, IdentityFactory

pytestmark = pytest.mark.django_db


def test_it_returns_the_context_with_cart_intent_and_greeting(api):
    api.post("/api/v1/events", {"events": [event("e-1", "cart_updated")]})

    body = api.get("/api/v1/customers/external:shopper-1").json()

    assert body["identities"] == [
        {"kind": "external", "value": "shopper-1", "verified": False, "opted_out": False}
    ]
    assert body["open_cart"]["items"] == [
        {"sku": "T900", "name": "T900 treadmill", "quantity": 1, "unit_price": "1299.00"}
    ]
    assert body["cart_value"] == "1299.00"
    assert body["current_intent"]["kind"] == "cart"
    assert body["greeting"] == "Any questions about the T900 treadmill in your cart?"
    assert body["last_seq"] == 1


def test_it_shows_consent_channels_and_the_open_case(api):
    customer = CustomerFactory(display_name="Ana")
    IdentityFactory(customer=customer, kind="phone", value="+14155550132")
    journal.record(customer=customer, channel="sms", kind="message", direction="in", body="hi")

    body = api.get(f"/api/v1/customers/{customer.pk}").json()

    assert body["name"] == "Ana" and body["consent"] == {"sms": True}
    assert body["channels_used"] == ["sms"] and body["last_channel"] == "sms"
    assert body["open_case"]["status"] == "open"
    assert body["open_cart"] is None and body["current_intent"] is None
    assert body["greeting"] == "Hi! How can we help you today?"


def test_an_unknown_customer_is_404(api):
    assert api.get("/api/v1/customers/424242").status_code == 404
