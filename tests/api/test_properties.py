"""Properties of every endpoint, for any input a client could send with a valid key:

- no answer is a 5xx;
- an answer that is a 4xx wrote nothing (customers, identities, conversations, events,
  the commerce tables and the outbox keep their row counts).

Inputs are near misses more than noise: events built from valid parts with any field
swapped for an arbitrary JSON value, odd text (NUL, combining marks, other scripts'
digits), timestamps from year 1 to 9999, and paths and query strings of any text.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commerce.models import Cart, CartItem, Order, Product, ProductInterest
from conversations.models import Conversation, Customer, Event, Identity, Outbox
from tests.api.helpers import event
from tests.factories import CustomerFactory, IdentityFactory

pytestmark = pytest.mark.django_db

TABLES = [
    Customer,
    Identity,
    Conversation,
    Event,
    Outbox,
    Cart,
    CartItem,
    Order,
    Product,
    ProductInterest,
]
FUZZ = settings(
    max_examples=60,
    deadline=None,  # no wall-clock dependence
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)

odd_text = st.one_of(
    st.text(max_size=20),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "a\x00b",
            "²",
            "٣",
            "e\u0301",
            "x" * 129,
            "x" * 301,
            "0001-01-01T00:00:00+14:00",
            "9999-12-31T23:59:59Z",
            "1e30",
            "NaN",
            "-1",
            "12.345",
            "https://shop.example/a",
            "/path",
            "usd",
        ]
    ),
)
json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | odd_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(odd_text, inner, max_size=3),
    max_leaves=8,
)
timestamps = st.datetimes(allow_imaginary=False).map(lambda d: d.isoformat() + "Z") | odd_text


@st.composite
def near_miss_events(draw):
    kind = draw(
        st.sampled_from(
            ["page_viewed", "product_viewed", "cart_updated", "checkout_started", "order_placed"]
        )
    )
    item = event(
        draw(st.text(min_size=1, max_size=8) | odd_text),
        kind,
        customer={"external_id": draw(st.sampled_from(["a", "b"]) | odd_text)},
    )
    if draw(st.booleans()):
        item["occurred_at"] = draw(timestamps)
    for _ in range(draw(st.integers(0, 2))):
        # an earlier round may have replaced the payload or its items with any JSON value
        payload = item["payload"]
        target = payload if isinstance(payload, dict) and draw(st.booleans()) else item
        items = target.get("items") if target is payload else None
        if isinstance(items, list) and items and isinstance(items[0], dict) and draw(st.booleans()):
            target = items[0]
        keys = [*target, "extra"] if target else ["extra"]
        target[draw(st.sampled_from(keys))] = draw(json_value)
    return item


def counts() -> list[int]:
    return [model.objects.count() for model in TABLES]


def check(response, before: list[int]) -> None:
    assert response.status_code < 500, response.content
    if 400 <= response.status_code < 500:
        assert counts() == before, response.content


@given(batch=st.lists(near_miss_events(), min_size=1, max_size=4))
@FUZZ
def test_events_never_5xx_and_a_4xx_writes_nothing(api, batch):
    before = counts()

    check(
        api.client.post(
            "/api/v1/events",
            json.dumps({"events": batch}),
            content_type="application/json",
            headers={"Authorization": f"Bearer {api.key}"},
        ),
        before,
    )


@given(
    body=st.dictionaries(st.sampled_from(["events", "customer", "x"]), json_value, max_size=2)
    | json_value
)
@FUZZ
def test_any_json_body_never_5xx_and_a_4xx_writes_nothing(api, body):
    before = counts()

    for url in ("/api/v1/events", "/api/v1/messages"):
        check(
            api.client.post(
                url,
                json.dumps(body),
                content_type="application/json",
                headers={"Authorization": f"Bearer {api.key}"},
            ),
            before,
        )


@pytest.fixture
def known_customer():
    """One customer, made once for all examples: external "a", a phone."""
    known = CustomerFactory()
    IdentityFactory(customer=known, kind="external", value="a")
    IdentityFactory(customer=known, kind="phone", value="+14155550132")
    return known


@given(
    customer=st.fixed_dictionaries(
        {},
        optional={"external_id": odd_text, "phone": odd_text, "email": odd_text, "name": odd_text},
    ),
    channel=st.just("sms") | odd_text,
    text=odd_text,
    to=st.none() | odd_text,
    media=st.lists(odd_text, max_size=2),
)
@FUZZ
def test_messages_never_5xx_and_a_4xx_writes_nothing(
    api, known_customer, customer, channel, text, to, media
):
    before = counts()
    body = {"customer": customer, "channel": channel, "body": text, "to": to, "media_urls": media}

    check(
        api.client.post(
            "/api/v1/messages",
            json.dumps(body),
            content_type="application/json",
            headers={"Authorization": f"Bearer {api.key}"},
        ),
        before,
    )


@given(
    ref=odd_text | st.sampled_from(["1", "external:a", "email:a@b.example", "phone:+1"]),
    after=st.none() | odd_text,
    limit=st.none() | odd_text,
)
@FUZZ
def test_reads_never_5xx(api, ref, after, limit):
    from urllib.parse import quote

    params = {k: v for k, v in (("after", after), ("limit", limit)) if v is not None}
    path = quote(ref, safe="")
    before = counts()

    for url in (f"/api/v1/customers/{path}", f"/api/v1/customers/{path}/timeline"):
        response = api.client.get(url, params, headers={"Authorization": f"Bearer {api.key}"})
        assert response.status_code < 500, response.content
        assert counts() == before  # reading writes nothing
