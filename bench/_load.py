"""The load generator of the HTTP benchmarks (bench/_webhooks.py has the rest).

Processes of threads, each firing pre-built requests over a fresh connection to the
server on PORT (sync workers close each one, as they do behind a proxy), no library in
between: closed loop (back to back) for throughput, open loop (each request due at a
constant rate, its latency counted from when it was due) for tail latency. Needs no
Django: bench/_webhooks.py imports it first, for the port.
"""

from __future__ import annotations

import itertools
import math
import multiprocessing
import os
import resource
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from bench import free_port, release_connections

PORT = free_port(18_700, 19_700)
PROCESSES, THREADS = 2, 6  # the load generator; CONCURRENCY connections in flight at full load
CONCURRENCY = PROCESSES * THREADS
OPEN_LOOP_THREADS = 16  # per process at the paced rate, so a slow answer never delays the next
REQUEST_TIMEOUT = 10.0

# Made before the client processes fork, which inherit them: the requests of each mode
# ("webhook", "floor"), and whether an answer's whole bytes are the one expected.
POOLS: dict[str, list[bytes]] = {}
CHECKS: dict[str, Callable[[bytes], bool]] = {}


def ends_with(expected: str) -> Callable[[bytes], bool]:
    """A check: the answer's body is `expected`."""
    tail = expected.encode()
    return lambda answer: answer.endswith(tail)


def send(request: bytes) -> tuple[int, bytes]:
    """Send one request on a new connection; (status, whole answer), status 0 if none."""
    with socket.create_connection(("127.0.0.1", PORT), timeout=REQUEST_TIMEOUT) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    answer = b"".join(chunks)
    return (int(answer[9:12]) if answer.startswith(b"HTTP/1.") else 0), answer


def exchange(mode: str, request: bytes) -> int:
    """Send one request of `mode`; its status, or -1 for a 200 that CHECKS[mode] refuses."""
    status, answer = send(request)
    if status == 200 and not CHECKS[mode](answer):
        return -1
    return status


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
                    status = exchange(mode, pool[index])
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

    def __init__(self, server):  # a bench._webhooks.Server
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
