"""The widget's JSON endpoints, fed whatever a page (or a script pretending to be one) sends.

Invariants: no 5xx, whatever the body; a refused call (4xx) writes nothing. The bodies keep
a real site key and visitor token most of the time, so the fuzzing reaches the views.
"""

import json

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversations.visitors import issue_visitor_token, new_visitor_id
from tests.channels_adapters.webchat.conftest import SHOP_ORIGIN
from tests.rows import row_counts

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    "/widget/session",
    "/widget/identify",
    "/widget/track",
    "/widget/phone/start",
    "/widget/phone/confirm",
]
ODD_TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["²", "\x00", "\ud800", "+1415555O132", "0001-01-01T00:00:00+14:00", "1e30"]),
)
LEAF = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), ODD_TEXT)
JSON = st.recursive(
    LEAF,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "after_seq": JSON,
        "type": st.one_of(st.sampled_from(["page_viewed", "product_viewed", "cart_updated"]), JSON),
        "props": JSON,
        "event_id": JSON,
        "phone": st.one_of(st.sampled_from(["+14155550132", "4155550132"]), JSON),
        "code": JSON,
        "jwt": JSON,
        "hash": JSON,
        "user_id": JSON,
        "name": JSON,
        "email": JSON,
    },
)
FUZZ = settings(
    max_examples=80,
    deadline=None,  # a shared, loaded machine: no wall-clock verdicts
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def call(path: str, body: bytes):
    client = Client(raise_request_exception=False)
    return client.post(path, body, content_type="application/json", headers={"Origin": SHOP_ORIGIN})


def checked(response, before):
    assert response.status_code < 500, response.content[:300]
    if 400 <= response.status_code < 500:
        assert row_counts() == before


@FUZZ
@given(
    path=st.sampled_from(ENDPOINTS),
    fields=FIELDS,
    site_field=st.one_of(st.just("real"), JSON),
    token_field=st.one_of(st.just("real"), st.none(), JSON),
)
def test_any_json_body_is_answered_without_a_server_error(
    site, path, fields, site_field, token_field
):
    body = dict(fields)
    body["site"] = site.public_key if site_field == "real" else site_field
    if token_field == "real":
        body["token"] = issue_visitor_token(new_visitor_id())
    elif token_field is not None:
        body["token"] = token_field
    before = row_counts()

    checked(call(path, json.dumps(body).encode()), before)


@FUZZ
@given(path=st.sampled_from(ENDPOINTS), raw=st.binary(max_size=200))
def test_any_bytes_are_answered_without_a_server_error(site, path, raw):
    before = row_counts()

    checked(call(path, raw), before)
