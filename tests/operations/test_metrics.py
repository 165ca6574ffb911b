"""/metrics (operations/metrics.py) and what feeds it (operations/telemetry.py)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import redis
import time_machine
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from config.celery import app
from conversations import outbox
from conversations.identities import resolve_customer
from conversations.models import ParkedReaction
from operations import metrics
from operations.telemetry import time_tasks
from tests.channels_adapters.sms.conftest import TwilioWebhooks, sid, twilio_settings  # noqa: F401
from tests.channels_adapters.webchat.conftest import SHOP_ORIGIN, visitor, widget_socket

TOKEN = "s3cret-scrape-token"
pytestmark = pytest.mark.django_db


@pytest.fixture
def widget_site(db):
    from channels_adapters.webchat.models import Site

    return Site.objects.create(name="Stride Fitness", allowed_origins=[SHOP_ORIGIN])


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def scrape(client, token=TOKEN) -> dict[tuple[str, tuple], float]:
    """GET /metrics with the token; every sample as {(name, sorted labels): value}."""
    response = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_without_a_token_setting_there_is_no_endpoint(client, settings):
    settings.METRICS_TOKEN = ""

    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


def test_it_refuses_a_scrape_without_the_token(client, token):
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert client.get("/metrics", headers={"Authorization": TOKEN}).status_code == 403  # no scheme
    assert client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 403


def test_with_the_token_it_answers_every_metric(client, token):
    samples = scrape(client)

    names = {name for name, _ in samples}
    assert {
        "throughline_metrics_database_up",
        "throughline_metrics_redis_up",
        "throughline_outbox_messages",
        "throughline_outbox_oldest_pending_age_seconds",
        "throughline_reactions_stream_length",
        "throughline_reactions_lag",
        "throughline_reactions_pending",
        "throughline_reactions_failed",
        "throughline_metrics_scrape_seconds",
    } <= names
    assert samples[("throughline_metrics_database_up", ())] == 1
    assert samples[("throughline_metrics_redis_up", ())] == 1


def test_the_token_can_come_from_a_file(tmp_path, monkeypatch):
    import environ

    path = tmp_path / "token"
    path.write_text(TOKEN + "\n")
    monkeypatch.delenv("METRICS_TOKEN", raising=False)
    monkeypatch.setenv("METRICS_TOKEN_FILE", str(path))

    # the very expression config/settings/runtime.py reads it with
    assert environ.FileAwareEnv()("METRICS_TOKEN", default="").strip() == TOKEN


def test_an_sms_webhook_moves_the_sms_histogram(client, token):
    key = (
        "throughline_http_request_duration_seconds_count",
        (("channel", "sms"), ("status", "2xx")),
    )
    before = scrape(client).get(key, 0)

    response = TwilioWebhooks().sms("Is the T900 in stock?", sid=sid(1))

    assert response.status_code == 200
    assert scrape(client)[key] == before + 1


def test_a_refused_webhook_counts_as_4xx_on_its_channel(client, token):
    key = (
        "throughline_http_request_duration_seconds_count",
        (("channel", "voice"), ("status", "4xx")),
    )
    before = scrape(client).get(key, 0)

    response = client.post(
        "/hooks/twilio/voice/",
        "CallSid=CA1&From=%2B14155550123",
        content_type="application/x-www-form-urlencoded",
    )  # no signature

    assert response.status_code == 403
    assert scrape(client)[key] == before + 1


def test_outbox_depth_and_oldest_age_reflect_the_rows(client, token):
    customer = resolve_customer("phone", "+14155550142")
    with time_machine.travel(timezone.now() - timedelta(minutes=10), tick=False):
        outbox.send(customer=customer, channel="sms", body="Your T900 has shipped.")
    outbox.send(customer=customer, channel="sms", body="It arrives Friday.")
    # (no commit in this test: the deliveries queued after commit never run)

    samples = scrape(client)

    assert samples[("throughline_outbox_messages", (("status", "pending"),))] == 2
    assert samples[("throughline_outbox_messages", (("status", "sending"),))] == 0
    age = samples[("throughline_outbox_oldest_pending_age_seconds", ())]
    assert 600 <= age < 660


def test_an_empty_outbox_has_no_oldest_age(client, token):
    samples = scrape(client)

    assert samples[("throughline_outbox_messages", (("status", "pending"),))] == 0
    assert samples[("throughline_outbox_oldest_pending_age_seconds", ())] == 0


def test_failed_reactions_are_counted_by_status(client, token):
    for event_id, status in [(1, "retrying"), (2, "parked"), (3, "parked")]:
        ParkedReaction.objects.create(
            event_id=event_id, reaction="routing.hooks.on_event", status=status, error="boom"
        )

    samples = scrape(client)

    assert samples[("throughline_reactions_failed", (("status", "retrying"),))] == 1
    assert samples[("throughline_reactions_failed", (("status", "parked"),))] == 2


def test_the_reactions_stream_shows_its_length_lag_and_unacknowledged_entries(
    client, token, settings
):
    stream = f"test-metrics-{uuid.uuid4().hex[:8]}:reactions"
    settings.THROUGHLINE_REACTIONS_STREAM = stream
    r = redis.Redis.from_url(settings.REDIS_URL)
    try:
        r.xgroup_create(stream, "reactions", id="0", mkstream=True)
        for event_id in (1, 2, 3):
            r.xadd(stream, {"e": event_id})
        r.xreadgroup("reactions", "react-1", {stream: ">"}, count=1)  # read, not acknowledged

        samples = scrape(client)
    finally:
        r.delete(stream)
        r.close()

    assert samples[("throughline_reactions_stream_length", ())] == 3
    assert samples[("throughline_reactions_lag", ())] == 2
    assert samples[("throughline_reactions_pending", ())] == 1


def test_with_redis_down_the_scrape_still_answers_and_says_so(client, token, settings):
    settings.REDIS_URL = "redis://127.0.0.1:9/0"  # the discard port: nothing listens
    samples = scrape(client)

    assert samples[("throughline_metrics_redis_up", ())] == 0
    assert samples[("throughline_metrics_database_up", ())] == 1


def test_a_task_run_moves_its_duration_histogram(client, token):
    time_tasks()
    key = (
        "throughline_task_duration_seconds_count",
        (("outcome", "ok"), ("task", "conversations.sweep_outbox")),
    )
    before = scrape(client).get(key, 0)

    app.tasks["conversations.sweep_outbox"].apply()

    assert scrape(client)[key] == before + 1


@pytest.mark.django_db(transaction=True)
async def test_websocket_handshakes_and_open_sockets_are_counted(widget_site):
    def value(name, **labels):
        return metrics.REGISTRY.get_sample_value(name, labels) or 0

    refused = value("throughline_websocket_connects_total", socket="widget", outcome="refused")
    accepted = value("throughline_websocket_connects_total", socket="widget", outcome="accepted")
    sent = value("throughline_websocket_sends_total", socket="widget", outcome="sent")
    open_before = value("throughline_websocket_connections", socket="widget")
    _, token = visitor()

    stranger, connected, _ = await widget_socket("pk_no_such_site", token)
    assert not connected
    await stranger.disconnect()
    shopper, connected, _ = await widget_socket(widget_site.public_key, token)
    assert connected
    await shopper.receive_json_from(timeout=5)  # "ready"
    open_while_connected = value("throughline_websocket_connections", socket="widget")
    await shopper.disconnect()

    assert value("throughline_websocket_connects_total", socket="widget", outcome="refused") == (
        refused + 1
    )
    assert value("throughline_websocket_connects_total", socket="widget", outcome="accepted") == (
        accepted + 1
    )
    assert value("throughline_websocket_sends_total", socket="widget", outcome="sent") >= sent + 1
    assert open_while_connected == open_before + 1
    assert value("throughline_websocket_connections", socket="widget") == open_before
