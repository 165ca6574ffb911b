"""Property: whatever a signed form holds, the voice webhooks never answer 5xx, and a 4xx
writes nothing."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversations.models import Customer, Event, Identity, Outbox
from tests.fakes.odd_forms import odd_forms, random_forms
from tests.fakes.twilio_payloads import payload, post_signed

pytestmark = pytest.mark.django_db

PROPERTY = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
QUERIES = st.sampled_from(["", "?call=1", "?call=%C2%B2", "?call=-1", "?call=" + "9" * 30])


def counts() -> tuple[int, ...]:
    rows = tuple(m.objects.count() for m in (Customer, Identity, Event, Outbox))
    return (*rows, tuple(Event.objects.order_by("pk").values_list("data", flat=True)))


def check(path: str, form: dict) -> None:
    before = counts()
    response = post_signed(path, form)
    assert response.status_code < 500
    if 400 <= response.status_code < 500:
        assert counts() == before, response.content


@pytest.fixture
def known_call(twilio_settings):
    """The call the fixtures are about, already recorded, so callbacks reach deep."""
    assert post_signed("/hooks/twilio/voice/", payload("voice", "inbound_call")).status_code == 200


@PROPERTY
@given(form=st.one_of(odd_forms("voice", "inbound_call"), random_forms("voice", "inbound_call")))
def test_inbound_calls_never_5xx_and_a_4xx_writes_nothing(known_call, form):
    check("/hooks/twilio/voice/", form)


@PROPERTY
@given(form=st.one_of(odd_forms("voice", "gather_speech"), odd_forms("voice", "gather_digits")))
def test_gathers_never_5xx_and_a_4xx_writes_nothing(known_call, form):
    check("/hooks/twilio/voice/gather/", form)


@PROPERTY
@given(
    form=st.one_of(
        odd_forms("voice", "status_completed"), random_forms("voice", "status_completed")
    ),
    query=QUERIES,
    dial=st.none() | st.sampled_from(["no-answer", "completed", "²", "", "busy\x00"]),
)
def test_status_callbacks_never_5xx_and_a_4xx_writes_nothing(known_call, form, query, dial):
    if dial is not None:
        form = {**form, "DialCallStatus": dial}
    check("/hooks/twilio/voice/status/" + query, form)


@PROPERTY
@given(
    form=st.one_of(
        odd_forms("voice", "recording_action"),
        odd_forms("voice", "recording_status"),
        odd_forms("voice", "recording_absent"),
        odd_forms("voice", "transcription"),
    ),
    query=QUERIES,
)
def test_recording_callbacks_never_5xx_and_a_4xx_writes_nothing(known_call, form, query):
    check("/hooks/twilio/voice/recording/" + query, form)


@PROPERTY
@given(form=odd_forms("voice", "status_completed"), query=QUERIES)
def test_the_call_back_bridge_never_5xx_and_a_4xx_writes_nothing(known_call, form, query):
    check("/hooks/twilio/voice/bridge/" + query, form)
