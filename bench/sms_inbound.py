"""Twilio's inbound-SMS webhook over HTTP against its floor: `python -m bench.sms_inbound`.

The real server, as in production: gunicorn with sync workers (one per core, 2) running
the project's WSGI application with production settings, on 127.0.0.1, on a scratch
database (`throughline_bench_sms_inbound`, made and dropped here) and the Redis of
REDIS_URL, publishing under a channel prefix of its own. The only change is the URLconf
(bench/_sms_wsgi.py, bench/_sms_urls.py): the project's URLs plus the floor.

- Webhook: `POST /hooks/twilio/sms/`, each request a distinct `MessageSid` from one of a
  handful of numbers (so customers repeat, as in a shop's day), signed as Twilio signs
  (the auth token over PUBLIC_BASE_URL + path and the form), with Twilio's full field set.
- Floor: `POST /bench/floor/` in the same server, the same bodies: one indexed SELECT, one
  INSERT, the same empty TwiML (bench/_sms_urls.py).

The load generator: processes of threads, each firing pre-built requests over a fresh
connection (sync workers close each one, as they do behind a proxy), no library in between.
Two figures, floor and webhook alternating in short rounds (so the noise of a shared
machine falls on both alike):

1. Throughput at full load (closed loop, CONCURRENCY connections at once): webhook / floor,
   the median of the per-round ratios.
2. p99 latency at half the webhook's maximum rate (open loop: requests are due at a
   constant rate and each latency counts from when it was due, so a stall cannot hide):
   webhook / floor at the same rate, the median of the per-round ratios. The p99 of all
   rounds together is printed too, but it is no verdict: on a shared machine one stall
   from a neighbour (a round with a p99 of a second) decides it alone.

Every webhook must answer 200 with the empty TwiML and write exactly one event per
MessageSid: `errors` and `lost` are printed, and any makes both figures `short`.
"""

# ruff: noqa: E402  (Django must be set up before the models are imported)

from __future__ import annotations

import os
import secrets
import socket
import sys
import tempfile
from pathlib import Path

from bench import median, release_connections, scratch_database, setup_django, verdict


def _free_port(first: int = 18_700, last: int = 19_700) -> int:
    """A free port below 32768 (DESIGN.md, "Benchmarks"), a different start per run."""
    offset = os.getpid() % (last - first)
    for n in range(last - first):
        port = first + (offset + n) % (last - first)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {first}-{last}")


PORT = _free_port()
PUBLIC_BASE_URL = f"http://127.0.0.1:{PORT}"
AUTH_TOKEN = secrets.token_hex(16)
# This process checks signatures with the same token and URL as the server it starts.
os.environ["TWILIO_AUTH_TOKEN"] = AUTH_TOKEN
os.environ["PUBLIC_BASE_URL"] = PUBLIC_BASE_URL
setup_django()

import ctypes
import itertools
import math
import multiprocessing
import resource
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from gunicorn.config import KNOWN_SETTINGS
from twilio.request_validator import RequestValidator

from bench._sms_urls import CREATE_FLOOR_TABLES, FLOOR_PATH, MESSAGES, SENDERS
from channels_adapters.sms.inbound import EMPTY_TWIML
from conversations.models import Conversation, Customer, Event

DATABASE = "throughline_bench_sms_inbound"
WEBHOOK_PATH = "/hooks/twilio/sms/"
BASE_DIR = Path(__file__).resolve().parent.parent

WORKERS = 2  # gunicorn sync workers: one per core of the machines we run on
PROCESSES, THREADS = 2, 6  # the load generator; CONCURRENCY connections in flight at full load
CONCURRENCY = PROCESSES * THREADS
OPEN_LOOP_THREADS = 16  # per process at the paced rate, so a slow answer never delays the next

WARMUP_SECONDS = 1.5  # per mode, before anything is measured: customers, pools, imports
THROUGHPUT_ROUNDS, THROUGHPUT_SECONDS = 8, 1.5  # short rounds: neighbours change less
LATENCY_ROUNDS, LATENCY_SECONDS = 6, 4.0
WEBHOOK_REQUESTS = 40_000  # signed in advance, each sent at most once: bounds the run's count
FIRST_WEBHOOK = 1  # POOLS["webhook"][i] carries MessageSid _sid(FIRST_WEBHOOK + i)
FLOOR_REQUESTS = 4_000  # the floor needs no distinct sids; its bodies are reused in turn
REQUEST_TIMEOUT = 10.0

SHOP_NUMBER = "+14155550100"
SENDERS_PHONES = [f"+1415555{n:04d}" for n in range(110, 122)]  # 12 customers who text again
BODIES = [
    "Hi! Is the blue rain jacket from the window still there in a medium?",
    "Can I pick up my order tomorrow instead of today? Something came up at work.",
    "Thanks, got it",
    "Do you have the T900 in stock? Saw it on your site but it says limited availability.",
    "What time do you close on Saturday?",
    "My package says delivered but it isn't here. Order 48213, can you check please?",
    "ok see you at 6",
    "Is there parking near the store? Last time I had to circle for twenty minutes and "
    "almost gave up. Also can I bring my dog in?",
    "Could you hold the size 9 for me until Friday?",
    "👍",
]


# ---------------------------------------------------------------------------- requests


def _sid(n: int) -> str:
    return f"SM{n:032x}"


def _form(n: int, phone: str, body: str) -> dict[str, str]:
    """The fields Twilio posts for one inbound SMS (numbered `n`)."""
    sid = _sid(n)
    return {
        "ToCountry": "US",
        "ToState": "CA",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ToCity": "SAN FRANCISCO",
        "FromZip": "94105",
        "SmsSid": sid,
        "FromState": "CA",
        "SmsStatus": "received",
        "FromCity": "SAN FRANCISCO",
        "Body": body,
        "FromCountry": "US",
        "To": SHOP_NUMBER,
        "MessagingServiceSid": "MG" + "5" * 32,
        "ToZip": "94105",
        "NumSegments": "1",
        "ReferralNumMedia": "0",
        "MessageSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": phone,
        "ApiVersion": "2010-04-01",
    }


def _request(path: str, form: dict[str, str], signature: str) -> bytes:
    body = urlencode(form).encode()
    head = (
        f"POST {path} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{PORT}\r\n"
        "User-Agent: TwilioProxy/1.1\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"X-Twilio-Signature: {signature}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + body


def build_requests(count: int, path: str, *, first: int, signed: bool) -> list[bytes]:
    validator = RequestValidator(AUTH_TOKEN)
    url = PUBLIC_BASE_URL + path
    requests = []
    for n in range(first, first + count):
        form = _form(n, SENDERS_PHONES[n % len(SENDERS_PHONES)], BODIES[n % len(BODIES)])
        signature = validator.compute_signature(url, form) if signed else "unsigned"
        requests.append(_request(path, form, signature))
    return requests


# Made before the client processes fork, which inherit them.
POOLS: dict[str, list[bytes]] = {}
EXPECTED_ANSWER = EMPTY_TWIML.encode()


def send(request: bytes) -> tuple[int, bytes]:
    """Send one request on a new connection; (status, whole answer), status 0 if none."""
    with socket.create_connection(("127.0.0.1", PORT), timeout=REQUEST_TIMEOUT) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    answer = b"".join(chunks)
    return (int(answer[9:12]) if answer.startswith(b"HTTP/1.") else 0), answer


def exchange(request: bytes) -> int:
    """Send one webhook (or floor) request; its status, or -1 for a 200 that is not TwiML."""
    status, answer = send(request)
    if status == 200 and not answer.endswith(EXPECTED_ANSWER):
        return -1
    return status


# ---------------------------------------------------------------------------- load generator


@dataclass
class Outcome:
    index: int  # into POOLS[mode]
    status: int  # HTTP status; 0: no answer, -1: 200 with another body
    latency: float  # from when it was due (open loop) or sent (closed loop)
    done: float  # time.monotonic() when the answer ended


def _client(mode, proc, threads, base, start, end, rate, results) -> None:
    """One load-generator process: `threads` threads, each sending its own slots in turn.

    Worker g of W sends slots g, g + W, g + 2W, ...: request POOLS[mode][base + slot],
    back to back (closed loop) or each at start + slot / rate (open loop), until `end`.
    """
    try:
        pool = POOLS[mode]
        reuse = mode == "floor"
        width = PROCESSES * threads
        outcomes: list[list[Outcome]] = [[] for _ in range(threads)]

        def worker(t: int) -> None:
            out = outcomes[t]
            for k in itertools.count():
                slot = proc * threads + t + k * width
                index = base + slot
                if index >= len(pool):
                    if not reuse:
                        return
                    index %= len(pool)
                if rate:
                    due = start + slot / rate
                    if due >= end:
                        return
                    if (wait := due - time.monotonic()) > 0:
                        time.sleep(wait)
                else:
                    if (wait := start - time.monotonic()) > 0:
                        time.sleep(wait)
                    due = time.monotonic()
                    if due >= end:
                        return
                try:
                    status = exchange(pool[index])
                except OSError:
                    status = 0
                done = time.monotonic()
                out.append(Outcome(index, status, done - due, done))

        running = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
        for thread in running:
            thread.start()
        for thread in running:
            thread.join()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        flat = [outcome for out in outcomes for outcome in out]
        results.put(("ok", flat, usage.ru_utime + usage.ru_stime))
    except BaseException as exc:
        results.put(("error", repr(exc), 0.0))


def _cpu_jiffies() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine since boot."""
    with open("/proc/stat") as stat:
        fields = [int(v) for v in stat.readline().split()[1:9]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def _process_cpu(pids: list[int]) -> float:
    """CPU seconds (user + system) used so far by these processes."""
    ticks = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


@dataclass
class Phase:
    mode: str
    seconds: float
    rate: float | None
    outcomes: list[Outcome]
    started: float
    client_cpu: float  # seconds
    server_cpu: float  # seconds, the gunicorn workers
    machine_busy: float  # fraction of all cores

    @property
    def ok(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == 200]

    @property
    def throughput(self) -> float:
        """Answers per second over the phase (the last answer closes it)."""
        last = max((o.done for o in self.outcomes), default=self.started + self.seconds)
        return len(self.ok) / (last - self.started)

    def latency(self, fraction: float) -> float:
        values = sorted(o.latency for o in self.outcomes)
        return values[max(0, math.ceil(fraction * len(values)) - 1)]


class Load:
    """Runs phases against the server; remembers every webhook request sent."""

    def __init__(self, server: Server):
        self.server = server
        self.next_index = {"webhook": 0, "floor": 0}
        self.sent: dict[str, list[Outcome]] = {"webhook": [], "floor": []}

    def run(self, mode: str, seconds: float, rate: float | None = None) -> Phase:
        threads = OPEN_LOOP_THREADS if rate else THREADS
        base = self.next_index[mode]
        release_connections()  # no forked child may share this process's sockets
        context = multiprocessing.get_context("fork")
        results = context.Queue()
        start = time.monotonic() + 0.3  # every process forked and its threads waiting
        end = start + seconds
        processes = [
            context.Process(
                target=_client, args=(mode, proc, threads, base, start, end, rate, results)
            )
            for proc in range(PROCESSES)
        ]
        workers = self.server.worker_pids()
        try:
            for process in processes:
                process.start()
            while time.monotonic() < start:
                time.sleep(0.01)
            busy_before, total_before = _cpu_jiffies()
            server_before = _process_cpu(workers)
            answers = [results.get(timeout=seconds + REQUEST_TIMEOUT + 30) for _ in processes]
            busy_after, total_after = _cpu_jiffies()
            server_after = _process_cpu(workers)
            for process in processes:
                process.join(timeout=30)
        finally:
            # Interrupted (or a client hung), a child would wait for ever to hand over its
            # results, and this interpreter for it at exit: end them.
            for process in processes:
                if process.is_alive():
                    process.terminate()
                    process.join(timeout=5)
        outcomes, client_cpu = [], 0.0
        for status, detail, cpu in answers:
            if status != "ok":
                raise RuntimeError(f"a load-generator process failed: {detail}")
            outcomes += detail
            client_cpu += cpu
        if outcomes:
            self.next_index[mode] = max(o.index for o in outcomes) + 1
        if mode == "webhook" and self.next_index[mode] >= len(POOLS[mode]):
            raise RuntimeError(f"all {len(POOLS[mode])} signed webhooks used: raise the pool")
        self.sent[mode] += outcomes
        return Phase(
            mode,
            seconds,
            rate,
            outcomes,
            start,
            client_cpu,
            server_after - server_before,
            (busy_after - busy_before) / max(1, total_after - total_before),
        )


# ---------------------------------------------------------------------------- server


def database_url() -> str:
    db = connection.settings_dict
    user = quote(db["USER"] or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    host = db["OPTIONS"].get("host") or db["HOST"] or "localhost"
    if host.startswith("/"):
        return f"postgres://{user}{password}@/{db['NAME']}?host={quote(host, safe='')}"
    return f"postgres://{user}{password}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


def _stop_with_parent() -> None:
    """In the child before exec: have Linux send it SIGTERM if this benchmark dies, even
    killed outright (a normal end, an exception or a SIGTERM stops it in `Server.stop`)."""
    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _exit_on_sigterm(signum, frame) -> None:
    raise SystemExit(128 + signum)  # unwinds: the server stops, the scratch database goes


class Server:
    """gunicorn, sync workers, production settings, on the scratch database."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.log = workdir / "gunicorn.log"
        self.process: subprocess.Popen | None = None

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
            "THROUGHLINE_EVENT_HOOKS": "",
            "TWILIO_ACCOUNT_SID": "",
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "SMS_BACKEND": "channels_adapters.sms.backends.ConsoleBackend",  # nothing leaves
            "SECURE_SSL_REDIRECT": "false",  # plain HTTP on 127.0.0.1, as behind a TLS proxy
            "STATIC_ROOT": str(static),
            "LOG_LEVEL": "WARNING",
        }

    def start(self) -> None:
        argv = [
            *[sys.executable, "-m", "gunicorn", "bench._sms_wsgi:application"],
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
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"

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


@override_settings(ROOT_URLCONF="bench._sms_urls")
def queries_per_request() -> tuple[int, int]:
    """Queries of one steady-state webhook and one floor request, through Django in-process."""
    client = Client()
    counts = []
    unsent = FIRST_WEBHOOK + WEBHOOK_REQUESTS  # a MessageSid the load never used
    for path, request in [
        (WEBHOOK_PATH, build_requests(1, WEBHOOK_PATH, first=unsent, signed=True)),
        (FLOOR_PATH, build_requests(1, FLOOR_PATH, first=0, signed=False)),
    ]:
        head, body = request[0].split(b"\r\n\r\n", 1)
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
    return counts[0], counts[1]


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


def check_writes(load: Load) -> tuple[int, int, int]:
    """(errors, lost, floor_lost) over every request of the run, warm-up included.

    errors: webhooks not answered 200 with the empty TwiML; lost: MessageSids answered so
    with no event, plus events no request asked for (there must be one per MessageSid).
    """
    webhooks = load.sent["webhook"]
    errors = sum(1 for o in webhooks if o.status != 200)
    sent = {_sid(FIRST_WEBHOOK + o.index) for o in webhooks}
    answered = {_sid(FIRST_WEBHOOK + o.index) for o in webhooks if o.status == 200}
    written = set(
        Event.objects.filter(channel=Event.Channel.SMS, direction=Event.Direction.IN).values_list(
            "source_id", flat=True
        )
    )
    lost = len(answered - written) + len(written - sent)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {MESSAGES}")
        (floor_rows,) = cursor.fetchone()
    floor_answered = sum(1 for o in load.sent["floor"] if o.status == 200)
    print(
        f"webhooks sent: {len(webhooks)} ({len(sent)} distinct MessageSids), answered 200 with "
        f"the empty TwiML: {len(answered)}, events written: {len(written)}; "
        f"customers: {Customer.objects.count()}, conversations: {Conversation.objects.count()}\n"
        f"floor requests answered 200: {floor_answered}, rows written: {floor_rows}\n"
        f"errors: {errors}, lost: {lost}",
        flush=True,
    )
    if len(webhooks) != len(sent):
        raise RuntimeError("a MessageSid was sent twice: the load generator is broken")
    return errors, lost, floor_answered - floor_rows


def main() -> None:
    started = time.monotonic()
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    POOLS["webhook"] = build_requests(
        WEBHOOK_REQUESTS, WEBHOOK_PATH, first=FIRST_WEBHOOK, signed=True
    )
    POOLS["floor"] = build_requests(FLOOR_REQUESTS, FLOOR_PATH, first=1, signed=False)
    with scratch_database(DATABASE), tempfile.TemporaryDirectory(prefix="bench-sms-") as work:
        with connection.cursor() as cursor:
            cursor.execute(CREATE_FLOOR_TABLES)
            cursor.executemany(
                f"INSERT INTO {SENDERS} (phone) VALUES (%s)", [[p] for p in SENDERS_PHONES]
            )
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
            paced = alternate(load, LATENCY_ROUNDS, LATENCY_SECONDS, rate)
            p99_ratios = [r["webhook"].latency(0.99) / r["floor"].latency(0.99) for r in paced]
            errors, lost, floor_lost = check_writes(load)
        finally:
            server.stop()
        log = server.tail()
        webhook_queries, floor_queries = queries_per_request()

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
        verdict("sms_inbound.throughput_ratio", median(throughput_ratios), at_least=0.6),
        verdict("sms_inbound.p99_ratio_at_half_rate", median(p99_ratios), at_most=2),
    ]
    if errors or lost or floor_lost:
        # A figure bought with failed or lost messages is no figure.
        verdicts = [line.removesuffix(" ok").removesuffix(" short") + " short" for line in verdicts]
    print("\n".join(verdicts), flush=True)


if __name__ == "__main__":
    main()
