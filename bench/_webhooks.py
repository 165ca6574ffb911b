"""What the HTTP benchmarks share (`bench.sms_inbound`, `bench.voice_answer`, and the
server of `bench.events_ingest`).

Each of them times one of Twilio's webhooks over HTTP against a floor view in the same
server, in the same run. This module is the machinery:

- Importing it picks a free port, a fresh Twilio auth token and PUBLIC_BASE_URL, and sets
  Django up (bench.setup_django), so a script imports it before any model.
- The server, as in production: gunicorn with sync workers (one per core, 2) running the
  project's WSGI application with production settings, on 127.0.0.1, on a scratch database
  (made and dropped here) and the Redis of REDIS_URL, publishing under a channel prefix of
  its own. The only change is the URLconf (bench/_floor_wsgi.py, bench/_floor_urls.py): the
  project's URLs plus the floors.
- The load generator: processes of threads, each firing pre-built requests over a fresh
  connection (sync workers close each one, as they do behind a proxy), no library in
  between. Requests are signed in advance (`signed_request`) into POOLS; each webhook
  request is sent at most once (distinct Twilio sids), the floor's are reused in turn.
- The two figures (`run`), floor and webhook alternating in short rounds (so the noise of
  a shared machine falls on both alike):

  1. Throughput at full load (closed loop, CONCURRENCY connections at once): webhook /
     floor, the median of the per-round ratios.
  2. p99 latency at half the webhook's maximum rate (open loop: requests are due at a
     constant rate and each latency counts from when it was due, so a stall cannot hide):
     webhook / floor at the same rate, interleaved in LATENCY_ROUNDS short rounds (ten
     pairs in each order: the floor goes first in even rounds, last in odd ones), and the
     figure is the median of the per-round ratios, so background load from neighbours
     falls on both sides alike and one bad round cannot decide it. Each round lasts long
     enough for MIN_ROUND_REQUESTS requests of each side, so that its p99 is at worst its
     second slowest, never its slowest. Rounds are not pooled into fewer, bigger ones: a
     neighbour's stall lasts a few hundred milliseconds and delays every request due in
     it, more than 1 % of a pool of several rounds, so it would decide the pool's p99
     (measured: pooled by four, the five ratios of one run ranged 0.2 to 5.6). The p99 of
     all rounds together is printed too, but it is no verdict for the same reason.

  The server runs as production does, log lines included: LOG_LEVEL=INFO and
  LOG_FORMAT=json, so each request's metrics and its JSON log line are inside the figures
  (the request lines are left out of the log tail printed at the end).

  A script's `check_writes` counts failures (errors, lost writes); any makes both figures
  `short`.
"""

# ruff: noqa: E402  (Django must be set up before the models are imported)

from __future__ import annotations

import os
import secrets

from bench import (
    database_url,
    median,
    scratch_database,
    setup_django,
    verdict,
)
from bench._load import (  # before Django: it picks the port
    CONCURRENCY,
    PORT,
    PROCESSES,
    THREADS,
    Load,
    Phase,
    send,
)

PUBLIC_BASE_URL = f"http://127.0.0.1:{PORT}"
AUTH_TOKEN = secrets.token_hex(16)
# This process checks signatures with the same token and URL as the server it starts.
os.environ["TWILIO_AUTH_TOKEN"] = AUTH_TOKEN
os.environ["PUBLIC_BASE_URL"] = PUBLIC_BASE_URL
setup_django()

import ctypes
import math
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from gunicorn.config import KNOWN_SETTINGS
from twilio.request_validator import RequestValidator

BASE_DIR = Path(__file__).resolve().parent.parent
WSGI_APPLICATION = "bench._floor_wsgi:application"
URLCONF = "bench._floor_urls"

WORKERS = 2  # gunicorn sync workers: one per core of the machines we run on

WARMUP_SECONDS = 1.5  # per mode, before anything is measured: customers, pools, imports
THROUGHPUT_ROUNDS, THROUGHPUT_SECONDS = 8, 1.5  # short rounds: neighbours change less
# Short rounds, many of them: a neighbour's burst spoils one round, not the median.
LATENCY_ROUNDS, LATENCY_SECONDS = 20, 3.0
MIN_ROUND_REQUESTS = 100  # per side and round, at least: its p99 is then its second slowest
REQUEST_LINE = '"logger": "throughline.requests"'  # base/logs.py, LOG_FORMAT=json


# ---------------------------------------------------------------------------- requests


def signed_request(path: str, form: dict[str, str], *, signed: bool = True) -> bytes:
    """One whole HTTP request posting `form` to `path`, signed as Twilio signs (the auth
    token over PUBLIC_BASE_URL + path and the form) unless `signed` is false."""
    signature = _validator().compute_signature(PUBLIC_BASE_URL + path, form) if signed else ""
    body = urlencode(form).encode()
    head = (
        f"POST {path} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{PORT}\r\n"
        "User-Agent: TwilioProxy/1.1\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"X-Twilio-Signature: {signature or 'unsigned'}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + body


_VALIDATOR: list[RequestValidator] = []


def _validator() -> RequestValidator:
    if not _VALIDATOR:
        _VALIDATOR.append(RequestValidator(AUTH_TOKEN))
    return _VALIDATOR[0]


# ---------------------------------------------------------------------------- server


def _stop_with_parent() -> None:
    """In the child before exec: have Linux send it SIGTERM if this benchmark dies, even
    killed outright (a normal end, an exception or a SIGTERM stops it in `Server.stop`)."""
    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _exit_on_sigterm(signum, frame) -> None:
    raise SystemExit(128 + signum)  # unwinds: the server stops, the scratch database goes


class Server:
    """gunicorn, sync workers, production settings, on the scratch database."""

    def __init__(self, workdir: Path, *, extra_env: dict[str, str] | None = None):
        self.workdir = workdir
        self.log = workdir / "gunicorn.log"
        self.process: subprocess.Popen | None = None
        self.extra_env = extra_env or {}

    def environment(self) -> dict[str, str]:
        static = self.workdir / "static"
        static.mkdir(exist_ok=True)
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "false",  # production settings: every required variable is given
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
            "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
            "DATABASE_URL": database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "CHANNEL_PREFIX": settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"],
            "TWILIO_ACCOUNT_SID": "",
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "SMS_BACKEND": "channels_adapters.sms.backends.ConsoleBackend",  # nothing leaves
            "VOICE_BACKEND": "channels_adapters.voice.backends.ConsoleBackend",  # nor calls
            "SECURE_SSL_REDIRECT": "false",  # plain HTTP on 127.0.0.1, as behind a TLS proxy
            "STATIC_ROOT": str(static),
            "LOG_LEVEL": "INFO",  # production's: every request is logged, as there
            "LOG_FORMAT": "json",
            **self.extra_env,
        }

    def start(self) -> None:
        argv = [
            *[sys.executable, "-m", "gunicorn", WSGI_APPLICATION],
            *["--worker-class", "sync", "--workers", str(WORKERS)],
            *["--bind", f"127.0.0.1:{PORT}", "--timeout", "30", "--graceful-timeout", "5"],
        ]
        if any(s.name == "control_socket_disable" for s in KNOWN_SETTINGS):  # newer gunicorn
            argv.append("--no-control-socket")  # one shared path; `make run` may hold it
        with open(self.log, "wb") as log:
            # Our own interpreter running gunicorn on our own module: no outside input.
            self.process = subprocess.Popen(  # noqa: S603
                argv,
                cwd=BASE_DIR,
                env=self.environment(),
                stdout=log,
                stderr=log,
                preexec_fn=_stop_with_parent,  # this process has no threads to trouble
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited {self.process.returncode}:\n{self.tail()}")
            try:
                if self._get("/readyz") == 200 and len(self.worker_pids()) == WORKERS:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not get ready in 60 s:\n{self.tail()}")

    def _get(self, path: str) -> int:
        request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{PORT}\r\nConnection: close\r\n\r\n"
        return send(request.encode())[0]

    def worker_pids(self) -> list[int]:
        pid = self.process.pid
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as children:
                return [int(child) for child in children.read().split()]
        except FileNotFoundError:
            return []

    def tail(self, lines: int = 40) -> str:
        """The log's last lines, but for the one line each request writes."""
        try:
            text = self.log.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log)"
        kept = [line for line in text.splitlines() if REQUEST_LINE not in line]
        return "\n".join(kept[-lines:])

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # gunicorn's graceful stop; the workers go with it
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


# ---------------------------------------------------------------------------- figures


def queries_per_request(probes: Sequence[tuple[str, bytes]]) -> list[int]:
    """Queries of each (path, request), sent through Django in-process on the bench's URLs."""
    client = Client()
    counts = []
    with override_settings(ROOT_URLCONF=URLCONF):
        for path, request in probes:
            head, body = request.split(b"\r\n\r\n", 1)
            signature = head.split(b"X-Twilio-Signature: ")[1].split(b"\r\n")[0].decode()
            with CaptureQueriesContext(connection) as captured:
                response = client.post(
                    path,
                    body,
                    content_type="application/x-www-form-urlencoded",
                    headers={"X-Twilio-Signature": signature},
                )
            assert response.status_code == 200, (path, response.status_code, response.content)
            counts.append(len(captured.captured_queries))
    return counts


def describe(phase: Phase) -> str:
    """One phase's raw numbers. `in flight` is rate x mean latency (Little's law): close to
    the connections open at full load, it shows the workers always had a request waiting,
    so the load generator was not what limited the rate."""
    errors = len(phase.outcomes) - len(phase.ok)
    mean = sum(o.latency for o in phase.outcomes) / max(1, len(phase.outcomes))
    return (
        f"{phase.mode:7} {phase.throughput:5.0f}/s  p50 {phase.latency(0.5) * 1000:5.1f} ms  "
        f"p99 {phase.latency(0.99) * 1000:5.1f} ms  n={len(phase.outcomes):5}  errors={errors}  "
        f"in flight {phase.throughput * mean:4.1f}  cpu: machine {phase.machine_busy:4.0%}, "
        f"workers {phase.server_cpu / phase.seconds:4.0%} and client "
        f"{phase.client_cpu / phase.seconds:4.0%} of a core"
    )


def alternate(load: Load, rounds: int, seconds: float, rate: float | None) -> list[dict]:
    """`rounds` rounds of floor and webhook, the floor first in even rounds and last in odd."""
    measured = []
    for number in range(rounds):
        phases = {}
        for mode in ("floor", "webhook") if number % 2 == 0 else ("webhook", "floor"):
            phases[mode] = load.run(mode, seconds, rate)
            print(f"  round {number + 1}: {describe(phases[mode])}", flush=True)
        measured.append(phases)
    return measured


def floor_writes(load: Load, table: str) -> tuple[int, int]:
    """(floor requests answered 200, rows in the floor's `table`)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")  # one of _floor_urls' own tables
        (rows,) = cursor.fetchone()
    return sum(1 for o in load.sent["floor"] if o.status == 200), rows


@dataclass
class Benchmark:
    """What a webhook benchmark brings to `run`."""

    name: str  # the verdicts' prefix, "sms_inbound"
    database: str  # the scratch database, made and dropped by `run`
    pools: Callable[[], None]  # fills POOLS and CHECKS
    seed: Callable[[], None]  # the scratch database's rows (floor tables included)
    check_writes: Callable[[Load], Sequence[int]]  # failure counts, printed by itself
    probes: Callable[[], list[tuple[str, bytes]]]  # (webhook, floor) for the query count
    throughput_target: float  # webhook / floor at full load, at least
    p99_target: float = 2  # webhook / floor at half rate, at most


def run(bench: Benchmark) -> None:
    """Set up, measure, tear down, and print the figures and the verdict lines."""
    started = time.monotonic()
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    bench.pools()
    prefix = f"bench-{bench.name.split('_')[0]}-"
    with scratch_database(bench.database), tempfile.TemporaryDirectory(prefix=prefix) as work:
        bench.seed()
        server = Server(Path(work))
        try:
            server.start()
            print(
                f"setup: {time.monotonic() - started:.1f} s; gunicorn {WORKERS} sync workers on "
                f"{PUBLIC_BASE_URL}, load generator {PROCESSES} processes x {THREADS} "
                f"connections, {os.cpu_count()} cores",
                flush=True,
            )
            load = Load(server)
            for mode in ("floor", "webhook"):
                print(f"  warm-up: {describe(load.run(mode, WARMUP_SECONDS))}", flush=True)

            print(f"throughput, closed loop, {CONCURRENCY} connections:", flush=True)
            full = alternate(load, THROUGHPUT_ROUNDS, THROUGHPUT_SECONDS, None)
            throughput_ratios = [r["webhook"].throughput / r["floor"].throughput for r in full]
            webhook_max = median([r["webhook"].throughput for r in full])
            floor_max = median([r["floor"].throughput for r in full])
            rate = webhook_max / 2

            print(f"latency, open loop at {rate:.0f}/s (half the webhook's maximum):", flush=True)
            seconds = max(LATENCY_SECONDS, MIN_ROUND_REQUESTS / rate)
            paced = alternate(load, LATENCY_ROUNDS, seconds, rate)
            p99_ratios = [r["webhook"].latency(0.99) / r["floor"].latency(0.99) for r in paced]
            failures = bench.check_writes(load)
        finally:
            server.stop()
        log = server.tail()
        webhook_queries, floor_queries = queries_per_request(bench.probes())

    def pooled(mode: str, fraction: float) -> float:
        values = sorted(o.latency for r in paced for o in r[mode].outcomes)
        return values[max(0, math.ceil(fraction * len(values)) - 1)] * 1000

    print(
        f"throughput, medians of {THROUGHPUT_ROUNDS} rounds: floor {floor_max:.0f}/s, "
        f"webhook {webhook_max:.0f}/s; per-round ratios "
        + " ".join(f"{r:.2f}" for r in throughput_ratios)
        + f"\nlatency at {rate:.0f}/s, all rounds: floor p50 {pooled('floor', 0.5):.1f} ms "
        f"p99 {pooled('floor', 0.99):.1f} ms; webhook p50 {pooled('webhook', 0.5):.1f} ms "
        f"p99 {pooled('webhook', 0.99):.1f} ms; per-round p99 ratios "
        + " ".join(f"{r:.2f}" for r in p99_ratios)
        + f"\nqueries per request (in-process, steady state): webhook {webhook_queries}, "
        f"floor {floor_queries}",
        flush=True,
    )
    if log.strip():
        print(f"gunicorn log (last lines):\n{log}", flush=True)
    print(f"total: {time.monotonic() - started:.0f} s", flush=True)
    verdicts = [
        verdict(
            f"{bench.name}.throughput_ratio",
            median(throughput_ratios),
            at_least=bench.throughput_target,
        ),
        verdict(
            f"{bench.name}.p99_ratio_at_half_rate", median(p99_ratios), at_most=bench.p99_target
        ),
    ]
    if any(failures):
        # A figure bought with failed or lost writes is no figure.
        verdicts = [line.removesuffix(" ok").removesuffix(" short") + " short" for line in verdicts]
    print("\n".join(verdicts), flush=True)
