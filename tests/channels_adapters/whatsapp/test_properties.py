"""Property: whatever a signed form holds, the WhatsApp webhooks never answer 5xx, and a
4xx writes nothing."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversations.models import Customer, Event, Identity, Outbox
from tests.fakes.odd_forms import odd_forms, random_forms
from tests.fakes.twilio_payloads import post_signed

from .conftest import INBOUND_URL, STATUS_URL

pytestmark = pytest.mark.django_db

PROPERTY = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def counts() -> tuple[int, ...]:
    return tuple(m.objects.count() for m in (Customer, Identity, Event, Outbox))


def check(path: str, form: dict) -> None:
    before = counts()
    response = post_signed(path, form)
    assert response.status_code < 500
    if 400 <= response.status_code < 500:
        assert counts() == before, response.content


@PROPERTY
@given(
    form=st.one_of(
        odd_forms("whatsapp", "inbound_text"),
        odd_forms("whatsapp", "inbound_image"),
        odd_forms("whatsapp", "inbound_location"),
        odd_forms("whatsapp", "inbound_button"),
        odd_forms("whatsapp", "inbound_referral"),
        random_forms("whatsapp", "inbound_location"),
    ),
    path=st.sampled_from([INBOUND_URL, "/hooks/twilio/sms/"]),
)
def test_inbound_messages_never_5xx_and_a_4xx_writes_nothing(whatsapp_settings, form, path):
    check(path, form)


@PROPERTY
@given(
    form=st.one_of(
        odd_forms("whatsapp", "status_read"),
        odd_forms("whatsapp", "status_failed_63016"),
        random_forms("whatsapp", "status_delivered"),
    ),
    query=st.sampled_from(["", "?outbox=1", "?outbox=%C2%B2", "?outbox=-1"]),
)
def test_status_callbacks_never_5xx_and_a_4xx_writes_nothing(whatsapp_settings, form, query):
    check(STATUS_URL + query, form)
