"""Every way a batch can be refused: the status, and a body naming the field and problem."""

import pytest

from api.models import ApiKey
from conversations.models import Customer, Event
from tests.api.helpers import event

pytestmark = pytest.mark.django_db

URL = "/api/v1/events"


def refused(response, status, code, field=None):
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == code
    if field is not None:
        assert error["field"] == field
    assert not Event.objects.exists()  # nothing is stored
    return error


def test_a_request_without_a_key_is_401(api):
    response = api.post(URL, {"events": [event()]}, key="")

    refused(response, 401, "unauthenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_wrong_key_is_401(api):
    refused(api.post(URL, {"events": [event()]}, key="tl_not-a-key"), 401, "unauthenticated")


def test_a_deactivated_key_is_401(api, api_key):
    ApiKey.objects.filter(pk=api_key[0].pk).update(active=False)

    refused(api.post(URL, {"events": [event()]}), 401, "unauthenticated")


def test_the_key_may_come_in_x_api_key(api, api_key):
    response = api.post(URL, {"events": [event()]}, key="", HTTP_X_API_KEY="unused")
    assert response.status_code == 401
    response = api.client.post(
        URL,
        {"events": [event()]},
        content_type="application/json",
        headers={"X-Api-Key": api_key[1]},
    )
    assert response.status_code == 200


def test_malformed_json_is_400(api):
    error = refused(api.post(URL, '{"events": [', raw=True), 400, "malformed_json")
    assert "not valid JSON" in error["message"]


def test_a_body_that_is_not_json_is_415(api):
    refused(api.post(URL, "events=1", raw=True, content_type="text/plain"), 415,
            "unsupported_media_type")  # fmt: skip


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([event()], "body"),  # a bare list, not {"events": [...]}
        ({"events": {"event_id": "e-1"}}, "events"),
        ({"events": []}, "events"),
        ({}, "events"),
    ],
)
def test_events_must_be_a_non_empty_list_in_an_object(api, body, field):
    refused(api.post(URL, body), 400, "invalid", field)


def test_more_than_500_events_is_413(api):
    batch = [event(f"e-{n}") for n in range(501)]

    error = refused(api.post(URL, {"events": batch}), 413, "too_many_events", "events")
    assert "at most 500" in error["message"]


@pytest.mark.parametrize(
    ("item", "field", "words"),
    [
        (event(type="coupon_used"), "events[0].type", "must be one of page_viewed"),
        ({k: v for k, v in event().items() if k != "event_id"}, "events[0].event_id", "required"),
        (event(event_id=""), "events[0].event_id", "required"),
        (event(event_id=42), "events[0].event_id", "required"),
        (event(event_id="x" * 129), "events[0].event_id", "at most 128"),
        ({k: v for k, v in event().items() if k != "customer"}, "events[0].customer", "required"),
        (event(customer={"id": "7"}), "events[0].customer.id", "not a customer reference"),
        (event(customer={"email": "a@example.com", "external_id": "7"}), "events[0].customer",
         "exactly one"),
        (event(customer="shopper-1"), "events[0].customer", "must be an object"),
        (event(customer={"email": "not-an-email"}), "events[0].customer.email", "email"),
        (event(customer={"phone": "12"}), "events[0].customer.phone", "phone number"),
        (event(customer={"phone": "+1 415 555"}), "events[0].customer.phone", "phone number"),
        (event(customer={"visitor_token": "forged"}), "events[0].customer.visitor_token",
         "Invalid"),
        (event(colour="red"), "events[0].colour", "not an event field"),
        (event(occurred_at="yesterday"), "events[0].occurred_at", "ISO 8601"),
        (event(occurred_at="2025-01-01T10:00:00"), "events[0].occurred_at", "time zone"),
        (event(occurred_at="2999-01-01T10:00:00Z"), "events[0].occurred_at", "future"),
        (event(payload=[1]), "events[0].payload", "must be an object"),
        (event(payload={"title": "T900"}), "events[0].payload.url", "required"),
        (event(payload={"url": "javascript:alert(1)"}), "events[0].payload.url", "http(s)"),
        (event(type="product_viewed", payload={"sku": "T900"}), "events[0].payload.name",
         "required"),
        (event(type="product_viewed", payload={"sku": "T9", "name": "T9", "price": 10}),
         "events[0].payload.currency", "required"),
        (event(type="cart_updated", payload={"currency": "USD"}), "events[0].payload.items",
         "required"),
        (event(type="cart_updated", payload={"currency": "dollars", "items": []}),
         "events[0].payload.currency", "ISO 4217"),
        (event(type="order_placed", payload={"order_id": "1", "currency": "USD", "items": []}),
         "events[0].payload.items", "at least one"),
        (event(type="order_placed", payload={"currency": "USD", "items": [{}]}),
         "events[0].payload.items[0].sku", "required"),
    ],
)  # fmt: skip
def test_an_invalid_event_is_400_naming_the_field(api, item, field, words):
    error = refused(api.post(URL, {"events": [item]}), 400, "invalid", field)

    assert words in error["message"]
    assert error["details"] == [
        {"index": 0, "field": field, "message": error["details"][0]["message"]}
    ]


@pytest.mark.parametrize(
    ("price", "words"),
    [
        (-1, "negative"),
        ("12.345", "2 decimal places"),
        ("twelve", "decimal string"),
        (True, "decimal string"),
        (None, "required"),
        ("NaN", "finite"),
        ("1e20", "at most"),
        ([12], "decimal string"),
    ],
)
def test_a_bad_price_is_400_naming_the_line(api, price, words):
    line = {"sku": "T900", "name": "T900 treadmill", "quantity": 1, "price": price}
    item = event(type="cart_updated", payload={"currency": "USD", "items": [line, line]})
    item["payload"]["items"][0] = {**line, "price": "1.00"}

    error = refused(
        api.post(URL, {"events": [item]}), 400, "invalid", "events[0].payload.items[1].price"
    )
    assert words in error["message"]


@pytest.mark.parametrize("quantity", [0, -1, 1.5, "2", True, 10_001])
def test_a_bad_quantity_is_400(api, quantity):
    line = {"sku": "T900", "name": "T900", "quantity": quantity, "price": "1.00"}
    item = event(type="cart_updated", payload={"currency": "USD", "items": [line]})

    refused(
        api.post(URL, {"events": [item]}), 400, "invalid", "events[0].payload.items[0].quantity"
    )


def test_one_bad_event_refuses_the_whole_batch_and_lists_every_bad_one(api):
    batch = [event("e-1"), event("e-2", type="nope"), event("e-3"), event("")]

    error = refused(api.post(URL, {"events": batch}), 400, "invalid", "events[1].type")

    assert [d["index"] for d in error["details"]] == [1, 3]
    assert error["message"].startswith("2 of 4 events are invalid; nothing was stored.")
    assert not Customer.objects.exists()  # not even the customers were made


def test_a_body_over_the_upload_limit_is_413(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = {"events": [event(f"e-{n}") for n in range(20)]}

    # (the schema check itself could not read a body this large back, so the bare client)
    response = api.client.post(
        URL, body, content_type="application/json", headers={"Authorization": f"Bearer {api.key}"}
    )

    refused(response, 413, "too_large")


def test_other_methods_are_405(api):
    response = api.client.get(URL, headers={"Authorization": f"Bearer {api.key}"})

    assert response.status_code == 405 and response["Allow"] == "POST"
