"""Log lines (base/logs.py): one JSON line per request, nothing personal in any."""

from __future__ import annotations

import io
import json
import logging

import pytest

from base.logs import JsonFormatter, Redact, loggable_path, redact
from tests.channels_adapters.sms.conftest import (  # noqa: F401
    SHOPPER,
    TwilioWebhooks,
    sid,
    twilio_settings,
)

BODY = "My order 48213 never came, call me on 415 555 0199 please"


@pytest.fixture
def json_lines():
    """What the console handler of LOG_FORMAT=json writes, from every logger, at INFO."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(Redact())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


@pytest.mark.django_db
def test_a_signed_sms_webhook_logs_one_json_line_without_the_number_or_the_body(json_lines):
    response = TwilioWebhooks().sms(BODY, sid=sid(1), sender=SHOPPER)
    assert response.status_code == 200

    lines = json_lines()
    requests = [line for line in lines if line["logger"] == "throughline.requests"]
    assert len(requests) == 1
    (line,) = requests
    assert line["method"] == "POST"
    assert line["path"] == "/hooks/twilio/sms/"
    assert line["status"] == 200
    assert line["channel"] == "sms"
    assert line["duration_ms"] > 0
    assert {"time", "level", "message"} <= set(line)
    everything = json.dumps(lines)
    for secret in [SHOPPER, SHOPPER.removeprefix("+1"), "48213", "555 0199", sid(1)]:
        assert secret not in everything


@pytest.mark.django_db
def test_a_refused_page_logs_no_token(client, json_lines):
    client.get("/c/eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXRva2Vu.sig/preferences/?t=1")

    everything = json.dumps(json_lines())
    assert "eyJhbGciOiJIUzI1NiJ9" not in everything
    assert "t=1" not in everything
    assert "/c/[redacted]/preferences/" in everything


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "secret"),
    [
        ("/api/v1/customers/email:dana@example.com", "dana@example.com"),
        ("/api/v1/customers/phone:%2B14155550123", "4155550123"),
        ("/hooks/email/unsubscribe/" + "u" * 40 + "/", "u" * 40),  # a signed link
    ],
)
def test_djangos_own_line_about_a_refused_request_names_no_one(client, json_lines, path, secret):
    # django.request logs "Not Found: <path>" itself: the path as loggable_path blanks it
    client.get(path)

    lines = [line for line in json_lines() if line["logger"] == "django.request"]
    assert lines, "Django logged nothing"
    assert secret not in json.dumps(lines)


def test_personal_path_segments_are_blanked():
    assert loggable_path("/hooks/twilio/sms/status/") == "/hooks/twilio/sms/status/"
    assert loggable_path("/api/v1/customers/42/timeline") == "/api/v1/customers/42/timeline"
    assert loggable_path("/c/abc/callback/") == "/c/[redacted]/callback/"
    assert loggable_path("/api/v1/identities/+14155550123/") == "/api/v1/identities/[redacted]/"
    assert loggable_path("/x/shopper@example.com/") == "/x/[redacted]/"
    assert loggable_path("/s/" + "k" * 30 + "/") == "/s/[redacted]/"


def test_free_text_loses_phone_numbers_and_page_tokens():
    assert redact("Forbidden (403): /c/tok.en/preferences/") == (
        "Forbidden (403): /c/[redacted]/preferences/"
    )
    assert redact("no consent for +14155550123") == "no consent for [redacted]"
    assert redact("event 1234 of conversation 56") == "event 1234 of conversation 56"


def test_the_redact_filter_rewrites_a_records_final_message():
    record = logging.LogRecord(
        "conversations.outbox", logging.WARNING, __file__, 1, "no number %s", (SHOPPER,), None
    )

    Redact().filter(record)

    assert record.getMessage() == "no number [redacted]"
