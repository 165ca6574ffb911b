"""Property: whatever a signed form holds, the messaging webhooks never answer 5xx, and a
4xx writes nothing."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversations.models import Customer, Event, Identity, Outbox
from tests.fakes.odd_forms import odd_forms, random_forms
from tests.fakes.twilio_payloads import post_signed

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
        odd_forms("sms", "inbound_sms"),
        odd_forms("sms", "inbound_mms"),
        odd_forms("sms", "whatsapp_inbound"),
        odd_forms("sms", "short_code_sender"),
        odd_forms("sms", "alphanumeric_sender"),
        random_forms("sms", "inbound_mms"),
    )
)
def test_inbound_messages_never_5xx_and_a_4xx_writes_nothing(twilio_settings, form):
    check("/hooks/twilio/sms/", form)


@PROPERTY
@given(
    form=st.one_of(
        odd_forms("sms", "status_delivered"),
        odd_forms("sms", "status_undelivered"),
        random_forms("sms", "status_undelivered"),
    ),
    query=st.sampled_from(["", "?outbox=1", "?outbox=%C2%B2", "?outbox=-1", "?outbox=" + "9" * 30]),
)
def test_status_callbacks_never_5xx_and_a_4xx_writes_nothing(twilio_settings, form, query):
    check("/hooks/twilio/sms/status/" + query, form)
