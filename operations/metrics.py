"""Metrics for operators, in Prometheus's text format at `/metrics` (docs/operations.md,
"Metrics and alerts").

Two kinds, chosen so that nothing here costs the hot paths more than a few memory writes:

- Measured where they happen (histograms and counters, fed by operations/telemetry.py):
  request durations per channel, websocket connections and sends, task durations (the
  sweeps). Gunicorn workers, the websocket process, Celery and `react` are separate
  processes: with PROMETHEUS_MULTIPROC_DIR set (the same folder for every process of a
  host) prometheus_client keeps each process's values in a memory-mapped file and a scrape
  adds the files up; without it each process keeps its own, which is what one process (a
  test, `runserver`) needs.
- Read at scrape time (gauges): the outbox's depth and its oldest pending message, the
  reactions stream's length, lag and unacknowledged entries, failed reactions waiting.
  They are facts about the database and Redis, the same whichever process is asked, so
  they are read when Prometheus asks (a few indexed queries and one Redis round trip),
  never counted on the way.

The endpoint answers only with METRICS_TOKEN as a bearer token; without the setting it
does not exist (404).
"""

from __future__ import annotations

import hmac
import logging
import os
import time

import redis
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Count, Min, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from base.redis_client import redis_client

logger = logging.getLogger(__name__)

# The measured metrics live here rather than in prometheus_client's global registry, so a
# scrape shows exactly this module's metrics (and tests read them without side effects).
REGISTRY = CollectorRegistry(auto_describe=True)

# Twilio gives up on a webhook after 15 s; the buckets around a webhook's usual few
# milliseconds are the fine ones.
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0)
TASK_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 600.0)

REQUEST_DURATION = Histogram(
    "throughline_http_request_duration_seconds",
    "Time to answer an HTTP request, by channel (sms, voice, web, api, ...) and status class.",
    ["channel", "status"],
    buckets=REQUEST_BUCKETS,
    registry=REGISTRY,
)
SOCKETS_OPEN = Gauge(
    "throughline_websocket_connections",
    "Websockets open now, by socket (widget, agent).",
    ["socket"],
    multiprocess_mode="livesum",  # the processes alive now, added up
    registry=REGISTRY,
)
SOCKET_CONNECTS = Counter(
    "throughline_websocket_connects",
    "Websocket handshakes, by socket and outcome (accepted, refused).",
    ["socket", "outcome"],
    registry=REGISTRY,
)
SOCKET_SENDS = Counter(
    "throughline_websocket_sends",
    "Frames sent to websockets, by socket and outcome (sent, failed: the client was gone).",
    ["socket", "outcome"],
    registry=REGISTRY,
)
TASK_DURATION = Histogram(
    "throughline_task_duration_seconds",
    "Time a Celery task ran (the sweeps among them), by task name and outcome.",
    ["task", "outcome"],
    buckets=TASK_BUCKETS,
    registry=REGISTRY,
)

# The sockets of config/asgi.py; any other path counts as "other".
SOCKET_NAMES = {"/ws/widget/": "widget", "/ws/agent/": "agent"}

# Path prefixes to channel labels, first match wins: a fixed, small label set.
CHANNELS = (
    ("/hooks/twilio/sms/", "sms"),
    ("/hooks/twilio/voice/", "voice"),
    ("/widget", "web"),
    ("/api/", "api"),
    ("/s/", "instore"),
    ("/c/", "customer_pages"),
    ("/admin/", "admin"),
    ("/healthz", "health"),
    ("/readyz", "health"),
    ("/metrics", "health"),
)


def channel_of(path: str) -> str:
    """The channel label of a request path (`/hooks/twilio/sms/status/` is "sms")."""
    for prefix, channel in CHANNELS:
        if path.startswith(prefix):
            return channel
    return "other"


def status_class(status: int) -> str:
    return f"{status // 100}xx"


def observe_request(channel: str, status: int, seconds: float) -> None:
    REQUEST_DURATION.labels(channel, status_class(status)).observe(seconds)


def socket_of(path: str) -> str:
    return SOCKET_NAMES.get(path, "other")


# ---------------------------------------------------------------------------- scrape time


def _multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def _redis() -> redis.Redis:
    # Short timeouts: a scrape must answer (with redis_up 0) even when Redis does not.
    return redis_client(timeout=2)


class StateCollector:
    """Gauges read from the database and Redis when Prometheus scrapes."""

    # A scrape never holds the database: each of its statements gives up after this long.
    STATEMENT_TIMEOUT_MS = 2000

    def collect(self):
        yield from self._database()
        yield from self._stream()

    def _database(self):
        from conversations.models import Outbox, ParkedReaction

        up = GaugeMetricFamily(
            "throughline_metrics_database_up",
            "1 when this scrape could read the database's gauges, 0 when it could not.",
        )
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(f"SET LOCAL statement_timeout = {self.STATEMENT_TIMEOUT_MS}")
                outbox = _outbox_state(Outbox)
                parked = dict(
                    ParkedReaction.objects.order_by()
                    .values_list("status")
                    .annotate(n=Count("pk"))
                    .values_list("status", "n")
                )
        except DatabaseError:
            logger.warning("metrics: the database gauges could not be read", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        depth = GaugeMetricFamily(
            "throughline_outbox_messages",
            "Outbound messages not yet handed to the provider, by status (pending, sending).",
            labels=["status"],
        )
        for status in ("pending", "sending"):
            depth.add_metric([status], outbox[status])
        yield depth
        oldest = outbox["oldest"]
        yield GaugeMetricFamily(
            "throughline_outbox_oldest_pending_age_seconds",
            "Age of the oldest pending outbound message (0 when none is pending).",
            value=(timezone.now() - oldest).total_seconds() if oldest else 0,
        )
        waiting = GaugeMetricFamily(
            "throughline_reactions_failed",
            "Reactions that failed on an event, by status: retrying (on their own, with "
            "backoff) or parked (out of attempts: waiting for a person to replay them).",
            labels=["status"],
        )
        for status in ParkedReaction.Status.values:
            waiting.add_metric([status], parked.get(status, 0))
        yield waiting

    def _stream(self):
        up = GaugeMetricFamily(
            "throughline_metrics_redis_up",
            "1 when this scrape could read the reactions stream, 0 when it could not.",
        )
        stream = settings.THROUGHLINE_REACTIONS_STREAM
        try:
            pipe = _redis().pipeline(transaction=False)
            pipe.xlen(stream)
            pipe.xinfo_groups(stream)
            length, groups = pipe.execute(raise_on_error=False)
        except redis.RedisError:
            logger.warning("metrics: the reactions stream could not be read", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        if isinstance(length, Exception):
            length = 0
        # No stream yet (nothing recorded since Redis started, or inline mode): no group.
        groups = [] if isinstance(groups, Exception) else groups
        group = next((g for g in groups if _text(g.get("name")) == "reactions"), {})
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily(
            "throughline_reactions_stream_length",
            "Entries in the reactions stream (handled ones stay until the stream is trimmed).",
            value=length,
        )
        yield GaugeMetricFamily(
            "throughline_reactions_lag",
            "Events recorded but not yet read by any `react` process.",
            value=group.get("lag") or 0,
        )
        yield GaugeMetricFamily(
            "throughline_reactions_pending",
            "Events a `react` process has read but not yet acknowledged.",
            value=group.get("pending") or 0,
        )


def _outbox_state(outbox) -> dict:
    """Pending and sending rows, and the oldest pending one: both statuses have partial
    indexes (the sweep's), so this reads only the rows waiting, never the sent history."""
    return outbox.objects.filter(status__in=["pending", "sending"]).aggregate(
        pending=Count("pk", filter=Q(status="pending")),
        sending=Count("pk", filter=Q(status="sending")),
        oldest=Min("created_at", filter=Q(status="pending")),
    )


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def exposition() -> bytes:
    """Every metric, in Prometheus's text format."""
    if directory := _multiprocess_dir():
        measured = CollectorRegistry()
        MultiProcessCollector(measured, path=directory)
    else:
        measured = REGISTRY
    state = CollectorRegistry(auto_describe=False)
    state.register(StateCollector())
    started = time.perf_counter()
    text = generate_latest(measured) + generate_latest(state)
    took = (
        "# HELP throughline_metrics_scrape_seconds Time this scrape took.\n"
        "# TYPE throughline_metrics_scrape_seconds gauge\n"
        f"throughline_metrics_scrape_seconds {time.perf_counter() - started:.6f}\n"
    )
    return text + took.encode()


# ---------------------------------------------------------------------------- the endpoint

# The text format every Prometheus reads (our names need nothing newer).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def token_ok(request: HttpRequest, token: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """`GET /metrics` with `Authorization: Bearer <METRICS_TOKEN>`."""
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404("Metrics are off: set METRICS_TOKEN.")
    if not token_ok(request, token):
        return HttpResponseForbidden("A bearer token is required.", content_type="text/plain")
    return HttpResponse(exposition(), content_type=CONTENT_TYPE)
