"""Property: whatever a correctly authenticated payload holds, the email webhooks never
answer 5xx, and a 4xx writes nothing."""

import copy
import json

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversations.models import Customer, Event, Identity, Outbox
from tests.fakes.email_payloads import (
    basic_auth,
    fixture,
    mailgun_inbound,
    post_mailgun_inbound,
    post_mailgun_tracking,
    postmark_inbound,
)

pytestmark = pytest.mark.django_db

PROPERTY = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
odd_values = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.integers(),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
    st.sampled_from(
        ["", "<>", "a@b", "\u202e@x.y", "x" * 300, "<a@b> <c@d>", "=?utf-8?q?=C3=A9?="]
    ),
)


def counts() -> tuple[int, ...]:
    return tuple(m.objects.count() for m in (Customer, Identity, Event, Outbox))


def check(response, before) -> None:
    assert response.status_code < 500, response.content
    if 400 <= response.status_code < 500:
        assert counts() == before, response.content


def mutate(payload: dict, data) -> dict:
    payload = copy.deepcopy(payload)
    keys = sorted(payload)
    for _ in range(data.draw(st.integers(1, 3))):
        key = data.draw(st.sampled_from(keys))
        action = data.draw(st.sampled_from(["drop", "change"]))
        if action == "drop":
            payload.pop(key, None)
        else:
            payload[key] = data.draw(odd_values)
    return payload


@PROPERTY
@given(data=st.data())
def test_postmark_inbound_never_5xx(data):
    payload = mutate(postmark_inbound(message_id=f"p{data.draw(st.integers(0, 9))}@x.y"), data)
    before = counts()
    response = Client().post(
        "/hooks/email/postmark/inbound/", json.dumps(payload), content_type="application/json",
        headers=basic_auth(),
    )  # fmt: skip
    check(response, before)


@PROPERTY
@given(data=st.data())
def test_mailgun_inbound_never_5xx(data):
    form = mutate(mailgun_inbound(message_id="m@x.y"), data)
    form = {k: v if isinstance(v, (str, list)) else json.dumps(v) for k, v in form.items()}
    form = {k: v for k, v in form.items() if not isinstance(v, list) or k == "message-headers"}
    before = counts()
    check(post_mailgun_inbound(form), before)


@PROPERTY
@given(data=st.data(), name=st.sampled_from(["delivered", "failed_permanent", "complained"]))
def test_mailgun_tracking_never_5xx(data, name):
    payload = fixture("mailgun", name, provider_id="x@y", recipient="a@b.c", outbox="1")
    payload["event-data"] = mutate(payload["event-data"], data)
    before = counts()
    check(post_mailgun_tracking(payload), before)


@PROPERTY
@given(
    data=st.data(),
    name=st.sampled_from(["delivery", "bounce", "spam_complaint", "subscription_change"]),
)
def test_postmark_tracking_never_5xx(data, name):
    payload = mutate(
        fixture("postmark", name, provider_id="x", recipient="a@b.c", outbox="1"), data
    )
    before = counts()
    response = Client().post(
        "/hooks/email/postmark/tracking/", json.dumps(payload), content_type="application/json",
        headers=basic_auth(),
    )  # fmt: skip
    check(response, before)
