"""A batch is all or nothing: refused or failed anywhere, it leaves no row behind, not even
the customers it would have created (docs/api.md: "nothing was stored")."""

import pytest
from django.apps import apps
from django.db import DatabaseError, connection

from api.keys import create_api_key
from commerce.ingest import ingest_batch
from commerce.models import Cart, Order
from commerce.validation import validate_event
from conversations.identities import resolve_customer
from tests.commerce.helpers import T900

pytestmark = pytest.mark.django_db

URL = "/api/v1/events"


def row_counts() -> dict[str, int]:
    """Rows in every table the events API may write (customers, journal, commerce...)."""
    return {
        model._meta.label: model.objects.count()
        for app in ("conversations", "commerce", "routing", "engagement")
        for model in apps.get_app_config(app).get_models()
    }


def shop_event(n: int, customer: str, type_="cart_updated", **payload) -> dict:
    payloads = {
        "cart_updated": {"currency": "USD", "items": [T900]},
        "order_placed": {"order_id": f"o-{n}", "currency": "USD", "items": [T900]},
        "page_viewed": {"url": "/t900"},
    }
    return {
        "event_id": f"e-{n}",
        "type": type_,
        "customer": {"external_id": customer},
        "payload": {**payloads[type_], **payload},
    }


@pytest.fixture
def post(client, settings):
    settings.API_RATE_LIMIT = 0
    _, key = create_api_key(name="All or nothing")

    def post(events):
        return client.post(
            URL,
            {"events": events},
            content_type="application/json",
            headers={"Authorization": f"Bearer {key}"},
        )

    return post


@pytest.fixture
def orders_fail_on_boom():
    """A database error on the batch's very last write (orders go in last): a trigger
    refuses the order `boom`, as a constraint or a lost connection would."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE FUNCTION test_refuse_boom() RETURNS trigger AS $$
            BEGIN
                IF NEW.external_id = 'boom' THEN
                    RAISE EXCEPTION 'refused by the test';
                END IF;
                RETURN NEW;
            END $$ LANGUAGE plpgsql;
            CREATE TRIGGER test_refuse_boom BEFORE INSERT ON commerce_order
                FOR EACH ROW EXECUTE FUNCTION test_refuse_boom();
            """
        )
    # (the test's transaction rolls the trigger back with everything else)


def test_a_batch_with_one_invalid_event_stores_nothing_not_even_new_customers(post):
    resolve_customer("external", "known")
    before = row_counts()
    batch = [
        shop_event(1, "new-shopper-1"),
        shop_event(2, "known", "order_placed"),
        shop_event(3, "new-shopper-2", "page_viewed"),
        shop_event(4, "new-shopper-3", currency="not money"),  # invalid
    ]

    response = post(batch)

    assert response.status_code == 400, response.content
    assert "nothing was stored" in response.json()["error"]["message"]
    assert row_counts() == before


def test_a_database_error_on_the_last_write_of_a_batch_undoes_the_whole_batch(
    orders_fail_on_boom,
):
    # given: a known customer, and a batch that creates two customers and writes carts,
    # products and journal events before its order fails
    resolve_customer("external", "known")
    before = row_counts()
    batch = [
        (("external", "new-shopper-1", "Ann"), shop_event(1, "new-shopper-1")),
        (("external", "known", ""), shop_event(2, "known")),
        (("email", "new@example.com", ""), shop_event(3, "new", "page_viewed")),
        (("external", "new-shopper-1", ""), shop_event(4, "x", "order_placed", order_id="boom")),
    ]
    items = [
        (reference, validate_event(**{k: v for k, v in e.items() if k != "customer"}))
        for reference, e in batch
    ]

    # when
    with pytest.raises(DatabaseError, match="refused by the test"):
        ingest_batch(items)

    # then
    assert row_counts() == before


def test_the_same_batch_without_the_failure_stores_everything(orders_fail_on_boom, post):
    before = row_counts()

    response = post([shop_event(1, "new-shopper-1"), shop_event(2, "new-shopper-1",
                                                                  "order_placed")])  # fmt: skip

    assert response.status_code == 200, response.content
    after = row_counts()
    assert after["conversations.Customer"] == before["conversations.Customer"] + 1
    assert after["conversations.Event"] == before["conversations.Event"] + 2
    assert Cart.objects.get().status == Cart.Status.ORDERED and Order.objects.count() == 1


def test_a_request_whose_batch_fails_in_the_database_leaves_no_customer_behind(
    orders_fail_on_boom, post
):
    before = row_counts()
    batch = [
        shop_event(1, "new-shopper-1"),
        shop_event(2, "new-shopper-2", "order_placed", order_id="boom"),
    ]

    # (the test client hands the view's exception over instead of a 500)
    with pytest.raises(DatabaseError, match="refused by the test"):
        post(batch)

    assert row_counts() == before
