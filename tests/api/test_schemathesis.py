"""schemathesis against /api/schema/: every operation, positive and negative data, all checks.

The document is the generated one, served by the app itself (WSGI, in-process, on the
test database); requests carry a real API key. Both directions hold: what the document
calls valid is accepted (2xx, or a 404 for a customer that does not exist, or a 422
business refusal of a message), what it calls invalid is refused with a 4xx, and no
request gets a 5xx.

Formats no pattern can say are ours to generate: a phone number libphonenumber accepts,
a visitor token we signed, and a date-time inside the documented window (2000-01-01 to
a few minutes ahead; the strategy stays in the past, so no clock is read).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import CHECKS
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode

from conversations.visitors import issue_visitor_token

PHONES = ["+14155550132", "+14155550199", "+442071838750", "+33142685300", "+61293744000"]


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


schemathesis.openapi.format("phone", st.sampled_from(PHONES))
schemathesis.openapi.format(
    "visitor-token",
    st.from_regex(r"v_[a-z0-9]{4,12}", fullmatch=True).map(issue_visitor_token),
)
schemathesis.openapi.format(
    "email", st.from_regex(r"[a-z0-9]{1,12}@[a-z]{1,12}\.example", fullmatch=True)
)
schemathesis.openapi.format(
    "date-time",
    st.builds(
        lambda moment, minutes: _rfc3339(moment.astimezone(timezone(timedelta(minutes=minutes)))),
        st.datetimes(
            min_value=datetime(2000, 1, 2),  # noqa: DTZ001  (hypothesis takes naive bounds)
            max_value=datetime(2024, 12, 31),  # noqa: DTZ001
            timezones=st.just(UTC),
        ),
        st.sampled_from([0, 60, -300, 840, -720, 330]),
    ),
)


@pytest.fixture
def web_schema(db, api_key, settings_for_fuzzing):
    config = SchemathesisConfig.from_dict(
        {
            "checks": {
                # A schema cannot know who opted out: a message may be refused (422).
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "401", "403", "404", "409", "422", "429"]
                },
            },
        }
    )
    schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application(), config=config)
    return schema


@pytest.fixture
def settings_for_fuzzing(settings):
    settings.API_RATE_LIMIT = 0  # what is fuzzed is the input, not the rate limit
    # As Django's test client does: the WSGI handler must not close the test's connection
    # (and its transaction) at the end of each request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


OPERATIONS = [
    ("POST", "/api/v1/events"),
    ("GET", "/api/v1/customers/{id}"),
    ("GET", "/api/v1/customers/{id}/timeline"),
    ("POST", "/api/v1/messages"),
]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_the_api_keeps_every_promise_of_its_schema(web_schema, api_key, method, path, mode):
    operation = web_schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=20,
        deadline=None,  # no wall-clock dependence
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def requests_keep_the_promises(case):
        # A real key, given explicitly, so the auth checks know it is meant to be valid
        # (and try the request without it, and with a wrong one).
        case.headers = {
            k: v
            for k, v in (case.headers or {}).items()
            if k.lower() not in ("x-api-key", "authorization")
        }
        case.call_and_validate(
            headers={"Authorization": f"Bearer {api_key[1]}"}, checks=CHECKS.get_all()
        )

    requests_keep_the_promises()
