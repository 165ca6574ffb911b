import pytest

from api.keys import create_api_key
from tests.api.helpers import event

pytestmark = pytest.mark.django_db


def test_over_the_limit_a_key_gets_429_with_retry_after(api, settings):
    settings.API_RATE_LIMIT, settings.API_RATE_LIMIT_WINDOW = 3, 60
    other_key = create_api_key(name="Other shop")[1]

    statuses = [
        api.post("/api/v1/events", {"events": [event(f"e-{n}")]}).status_code for n in range(4)
    ]
    limited = api.post("/api/v1/events", {"events": [event("e-9")]})
    other = api.post("/api/v1/events", {"events": [event("e-10")]}, key=other_key)

    assert statuses == [200, 200, 200, 429]
    assert limited.status_code == 429
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert limited.json()["error"]["code"] == "rate_limited"
    assert other.status_code == 200  # each key has its own budget


def test_a_limit_of_zero_switches_it_off(api, settings):
    settings.API_RATE_LIMIT = 0

    for n in range(5):
        assert api.post("/api/v1/events", {"events": [event(f"e-{n}")]}).status_code == 200


def test_without_redis_requests_are_let_through(api, settings):
    settings.API_RATE_LIMIT = 1
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1

    for n in range(3):
        assert api.post("/api/v1/events", {"events": [event(f"e-{n}")]}).status_code == 200
