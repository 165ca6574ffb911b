"""Live fan-out to widget sockets against its floor: `python -m bench.widget_fanout` (~1 min).

One uvicorn process (the websocket process of production) serves config.asgi plus a floor
route, `/ws/floor/`: a minimal Channels consumer that forwards each bare group message it
gets. With 1, 10 and 100 connected sockets in one group (one conversation open in that
many widget tabs, and one agent socket subscribed to it), this process alternates, in
rounds:

- record: `journal.record()` of an agent's web reply; the clock starts at its commit (an
  on_commit callback registered first) and stops when each widget socket and the agent
  socket has the message;
- floor: a bare group message of the same size, published over the same per-process
  connection `record()` publishes on (conversations.broadcast.publisher), to as many floor
  sockets as record() reaches (the widgets and the agent's: one more than the count); the
  clock starts just before the publish.

Each figure is the median, over ROUNDS rounds, of a round's p99 of record's receipts over
its p99 of the floor's (the worse of the widget sockets and the agent socket), as the
webhook benches measure tail latency: the two alternate in short rounds, so a neighbour's
stall falls on both alike and one bad round cannot decide it. A round sends each kind
enough messages for at least MIN_ROUND_RECEIPTS receipts a side, so that its p99 is never
its single slowest. The p99 of all receipts together is printed too, but it is no verdict.

What the floor leaves out (issue 17): the agent's socket gets the inbox's summary as well
as the message, so the server forwards one more group message and writes one more frame
of record's than the floor does; and record's clock starts right after a commit, where
the publish costs this process about 300 µs of CPU against the floor's 100 µs from an
idle process (the floor's own message, published right after a record's, costs 165 µs).
Until 2026-12-08 the floor served one socket fewer than record() (the count, without the
agent's): at 1 socket that was half the work, and the figure compared the worse of two
sockets served one after the other with one socket. Both kinds dispatch without a thread
hop (base/sockets.py).

A message that has not arrived within LOST_AFTER seconds is lost. Everything runs on a
scratch database, `throughline_bench_widget` (BENCH_WIDGET_DATABASE names another, so two
checkouts can run it side by side on one server), and the server listens on 127.0.0.1 on
a port below 32768; it is stopped at the end.
"""

# ruff: noqa: E402  (Django must be set up before the models are imported)

from __future__ import annotations

import os

from bench import (
    database_url,
    free_port,
    release_connections,
    scratch_database,
    setup_django,
    verdict,
)

setup_django()

import asyncio
import json
import socket
import statistics
import subprocess
import sys
import threading
import time
from urllib.parse import quote

from channels.auth import AuthMiddlewareStack
from channels.routing import ProtocolTypeRouter, URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.conf import settings
from django.db import transaction
from django.urls import path

from base.sockets import JsonSocketConsumer
from config import asgi
from operations.telemetry import SocketTelemetry

# Another name lets two checkouts run it side by side on one server.
DATABASE = os.environ.get("BENCH_WIDGET_DATABASE", "throughline_bench_widget")
COUNTS = (1, 10, 100)
ROUNDS = 10  # per count, each a floor burst then a record burst (the median is the figure)
MIN_ROUND_RECEIPTS = 100  # a side, per round: its p99 is then at worst its second slowest
MIN_ROUND_MESSAGES = 5  # a side, per round, however many sockets receive each
WARMUP = 20  # messages of each kind before the clock starts
LOST_AFTER = 3.0  # seconds
ORIGIN = "http://localhost"
FLOOR_GROUP = "bench.floor"
BODY = "Yes: the T900 folds flat to 25 cm and rolls on two wheels; it fits under most beds."


# ---------------------------------------------------------------------------- the server side


class FloorConsumer(JsonSocketConsumer):
    """The least a consumer can do: join a group, forward what arrives. It dispatches as
    the widget's and the agent's consumers do, with no thread hop per message
    (base/sockets.py): a floor that paid the hop they skip would flatter them."""

    async def connect(self):
        await self.channel_layer.group_add(FLOOR_GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard(FLOOR_GROUP, self.channel_name)

    async def floor_message(self, message):
        await self.send_json({"type": "floor", "message": message["message"]})


# What uvicorn serves (`bench.widget_fanout:application`): production's routes with their
# own checks, production's socket telemetry around them all, plus the floor.
application = ProtocolTypeRouter(
    {
        "http": asgi.django_asgi_app,
        "websocket": SocketTelemetry(
            URLRouter(
                [
                    path(
                        "ws/floor/",
                        AllowedHostsOriginValidator(AuthMiddlewareStack(FloorConsumer.as_asgi())),
                    ),
                    *asgi.websocket_urlpatterns,
                ]
            )
        ),
    }
)


UVICORN = [
    *[sys.executable, "-m", "uvicorn", "bench.widget_fanout:application", "--host", "127.0.0.1"],
    *["--lifespan", "off", "--log-level", "warning"],
]


def start_server(port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        # Every socket of the run comes from 127.0.0.1: the per-address limits of real
        # shoppers (60 sockets a minute) would refuse the 100-socket round. 0 switches a
        # group off (django-environ reads a dict as "key=value;key=value").
        "ADDRESS_RATE_LIMITS": "socket=0;message=0",
    }
    # our own interpreter serving a module of this package
    process = subprocess.Popen(  # noqa: S603
        [*UVICORN, "--port", str(port)],
        cwd=settings.BASE_DIR,
        env=env,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return process
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("the benchmark server did not start") from None
            time.sleep(0.1)


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# ---------------------------------------------------------------------------- the clients


class Receivers:
    """Websocket clients on an event loop in a thread; each receipt's time is kept by key."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.sockets: list = []
        self.lock = threading.Lock()
        self.receipts: dict[str, list[tuple[str, float]]] = {}  # key -> [(role, time)]

    def run(self, coroutine, timeout=60):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def open(self, url: str, role: str, *, headers=None, first: dict | None = None) -> None:
        self.run(self._open(url, role, headers or {}, first))

    async def _open(self, url, role, headers, first):
        from websockets.asyncio.client import connect

        ws = await connect(url, origin=ORIGIN, additional_headers=headers, max_size=2**22)
        if first is not None:
            await ws.send(json.dumps(first))
        self.sockets.append(ws)
        asyncio.get_running_loop().create_task(self._listen(ws, role))

    async def _listen(self, ws, role):
        async for text in ws:
            at = time.perf_counter()
            frame = json.loads(text)
            key = None
            if frame["type"] == "message":  # the widget
                key = frame["message"]["body"]
            elif frame["type"] == "event":  # the agent socket
                key = frame["event"]["body"]
            elif frame["type"] == "floor":
                key = frame["message"]["body"]
            if key is not None:
                with self.lock:
                    self.receipts.setdefault(key, []).append((role, at))

    def wait_for(self, key: str, expected: int, timeout: float) -> list[tuple[str, float]]:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            with self.lock:
                got = self.receipts.get(key, [])
                if len(got) >= expected:
                    return list(got)
            time.sleep(0.0002)
        with self.lock:
            return list(self.receipts.get(key, []))

    def close(self) -> None:
        async def close_all():
            await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)

        self.run(close_all())
        self.sockets.clear()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)


# ---------------------------------------------------------------------------- measuring


def p99(values: list[float]) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[98]
        if len(values) > 1
        else values[0]
    )


def measure(count: int, port: int, receivers: Receivers, fixtures: dict) -> dict:
    from conversations import broadcast, journal
    from conversations.models import Conversation

    ws_base = f"ws://127.0.0.1:{port}"
    # everyone starts from now: no replay of the previous counts' messages
    last_seq = Conversation.objects.get(pk=fixtures["conversation_id"]).last_seq
    widget_url = (
        f"{ws_base}/ws/widget/?site={fixtures['site_key']}&token={fixtures['token']}"
        f"&after_seq={last_seq}"
    )
    for _ in range(count):
        receivers.open(widget_url, "widget")
    # as many floor sockets as record() reaches: the widgets and the agent's
    for _ in range(count + 1):
        receivers.open(f"{ws_base}/ws/floor/", "floor")
    receivers.open(
        f"{ws_base}/ws/agent/",
        "agent",
        headers={"Cookie": fixtures["cookie"]},
        first={
            "type": "subscribe",
            "conversation": fixtures["conversation_id"],
            "after_seq": last_seq,
        },
    )
    time.sleep(0.5)  # every socket has joined its group

    latencies: dict[str, list[float]] = {"widget": [], "agent": [], "floor": []}
    lost = {"record": 0, "floor": 0}
    sequence = 0

    def send_record(measured: bool) -> None:
        nonlocal sequence
        sequence += 1
        body = f"{BODY} r{count}-{sequence}"
        committed = []
        with transaction.atomic():
            # registered first, so it runs at commit, before the broadcast's own callback
            transaction.on_commit(lambda: committed.append(time.perf_counter()))
            journal.record(
                customer=fixtures["customer"],
                channel="web",
                kind="message",
                direction="out",
                body=body,
                author=fixtures["agent"],
                delivery_status="sent",
            )
        got = receivers.wait_for(body, count + 1, LOST_AFTER)
        if measured:
            lost["record"] += count + 1 - len(got)
            for role, at in got:
                latencies[role].append(at - committed[0])

    def send_floor(measured: bool) -> None:
        nonlocal sequence
        sequence += 1
        body = f"{BODY} f{count}-{sequence}"
        message = {
            "type": "floor.message",
            "message": {"seq": sequence, "body": body, "occurred_at": "2026-01-01T00:00:00+00:00"},
        }
        started = time.perf_counter()
        broadcast.publisher.publish([(FLOOR_GROUP, message)])
        got = receivers.wait_for(body, count + 1, LOST_AFTER)
        if measured:
            lost["floor"] += count + 1 - len(got)
            latencies["floor"].extend(at - started for _, at in got)

    for _ in range(WARMUP):
        send_floor(False)
        send_record(False)
    per_round = max(-(-MIN_ROUND_RECEIPTS // count), MIN_ROUND_MESSAGES)
    ratios = []
    for _ in range(ROUNDS):
        marks = {role: len(values) for role, values in latencies.items()}
        for _ in range(per_round):
            send_floor(True)
        for _ in range(per_round):
            send_record(True)
        this = {role: latencies[role][marks[role] :] for role in latencies}
        if all(this.values()):
            ratios.append(max(p99(this["widget"]), p99(this["agent"])) / p99(this["floor"]))
    receivers.close()
    with receivers.lock:
        receivers.receipts.clear()
    return {"latencies": latencies, "lost": lost, "ratios": ratios}


def make_fixtures() -> dict:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from channels_adapters.webchat.inbound import known_customer, receive_message
    from channels_adapters.webchat.models import Site
    from console.roles import ensure_roles
    from conversations.visitors import issue_visitor_token, new_visitor_id

    site = Site.objects.create(name="bench", allowed_origins=[ORIGIN])
    visitor_id = new_visitor_id()
    # An anonymous visitor has no conversation to fan out to: the shopper writes first.
    receive_message(visitor_id=visitor_id, client_id="hello", body="Does the T900 fold?")
    customer = known_customer(visitor_id)
    # The agent socket lets in agents only (the console's permission), as the console does.
    agent = get_user_model().objects.create_user("bench-agent", is_staff=True)
    agent.groups.add(ensure_roles()["Agents"])
    client = Client()
    client.force_login(agent)
    return {
        "site_key": site.public_key,
        "token": quote(issue_visitor_token(visitor_id)),
        "customer": customer,
        "conversation_id": customer.conversation.pk,
        "agent": agent,
        "cookie": f"sessionid={client.cookies['sessionid'].value}",
    }


def main() -> int:
    lines = []
    with scratch_database(DATABASE):
        fixtures = make_fixtures()
        port = free_port(27_100, 27_200)
        server = start_server(port)
        receivers = Receivers()
        try:
            for count in COUNTS:
                result = measure(count, port, receivers, fixtures)
                lat, lost = result["latencies"], result["lost"]
                floor = p99(lat["floor"]) if lat["floor"] else float("inf")
                widget = p99(lat["widget"]) if lat["widget"] else float("inf")
                agent = p99(lat["agent"]) if lat["agent"] else float("inf")
                medians = {role: statistics.median(lat[role]) * 1000 for role in lat}
                print(
                    f"{count:>3} sockets: p50 floor {medians['floor']:.2f} ms, "
                    f"widget {medians['widget']:.2f} ms, agent {medians['agent']:.2f} ms",
                    flush=True,
                )
                print(
                    f"{count:>3} sockets: p99 floor {floor * 1000:.2f} ms, "
                    f"widget {widget * 1000:.2f} ms ({widget / floor:.2f}x), "
                    f"agent {agent * 1000:.2f} ms ({agent / floor:.2f}x); "
                    f"lost: record {lost['record']}, floor {lost['floor']}",
                    flush=True,
                )
                ratios = result["ratios"]
                print(
                    f"{count:>3} sockets: per-round p99 ratios "
                    + " ".join(f"{r:.2f}" for r in ratios),
                    flush=True,
                )
                figure = statistics.median(ratios) if ratios else float("inf")
                lines.append(verdict(f"widget_fanout.p99_ratio_{count}", figure, at_most=2))
                lines.append(verdict(f"widget_fanout.lost_{count}", lost["record"], at_most=0))
        finally:
            receivers.stop()
            stop_server(server)
            release_connections()
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
