"""The live server of the browser tests and the load-journey test: daphne serving
config.asgi (HTTP and websockets) on 127.0.0.1, against the test database.

Starting daphne imports the whole project (two to three seconds of a core), so a pytest
process keeps one running per environment (`LiveServers`) and hands it from test to test,
rather than one per test. What a kept server could carry from one test into the next is
taken away between them:

- the rows: each test is transactional and flushed, as before; the flush waits until no
  request of the server is still running (`_wait_until_idle`);
- the per-address limits: the server counts under a prefix of its own, emptied before
  each test (as `_fresh_address_limits` does for the test process);
- what the server's process keeps in memory: its copies of the numbers, the stores' hours
  and the routing rules are read again on every request (their cache times are 0), as a
  fresh server would read them, and Django's connections are not persistent;
- the environment: a server is kept for exactly the environment it started with. A test
  that changes it first (`monkeypatch.setenv("TWILIO_AUTH_TOKEN", ...)`, a fake Twilio's
  address) gets the server of that environment, started for it if there is none.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis
from django.conf import settings
from django.db import connection

from tests.conftest import subprocess_env

# daphne, ended by the kernel when the pytest process that started it ends, however it
# ends: a kept server outlives the test that started it, and an interrupted run must not
# leave it behind (PR_SET_PDEATHSIG, 1, which the exec keeps).
DAPHNE = [
    sys.executable,
    "-c",
    "import ctypes, os, signal, sys; ctypes.CDLL(None).prctl(1, signal.SIGTERM); "
    "os.execv(sys.executable, [sys.executable, '-m', 'daphne', *sys.argv[1:]])",
]
# Per test, not part of what a server is: the test's own limits prefix (a kept server has
# its own), pytest's note of the current test, and the switch the Playwright tests need
# in *their* process (the server keeps Django's async-safety check).
NOT_THE_SERVERS = ("ADDRESS_RATE_LIMIT_PREFIX", "PYTEST_CURRENT_TEST", "DJANGO_ALLOW_ASYNC_UNSAFE")
# A kept server reads these again on every request, as a new one would on its first.
NO_PROCESS_CACHES = {
    "NUMBERS_CACHE_SECONDS": "0",
    "INSTORE_HOURS_CACHE_SECONDS": "0",
    "ROUTING_RULES_CACHE_SECONDS": "0",
}


@dataclass
class _Server:
    process: subprocess.Popen
    url: str
    log_path: Path
    application_name: str  # of its database sessions
    limits_prefix: str


def _server_env(env_overrides: dict[str, str]) -> dict[str, str]:
    env = subprocess_env(DATABASE_POOL="false", WEBSOCKET_BASE_URL="", **env_overrides)
    for name in NOT_THE_SERVERS:
        if name not in env_overrides:
            env.pop(name, None)
    return env


def _start(log_path: Path, env: dict[str, str]) -> _Server:
    # The listening socket is made here and handed to daphne (--fd): no other worker's
    # server can take the port between choosing it and binding it, and no request can
    # reach another worker's server by mistake.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    port = listener.getsockname()[1]
    # Its database sessions carry a name of their own, so that the end of a test waits
    # for them (and only them).
    application_name = f"live-server-{port}"
    url = env["DATABASE_URL"]
    env = {
        **env,
        "DATABASE_URL": f"{url}{'&' if '?' in url else '?'}application_name={application_name}",
    }
    # Its log goes to a file: a pipe nobody reads fills up and stops the server mid-test.
    with listener, log_path.open("ab") as log:
        process = subprocess.Popen(
            [*DAPHNE, "--fd", str(listener.fileno()), "config.asgi:application"],
            cwd=settings.BASE_DIR,
            env=env,
            pass_fds=[listener.fileno()],
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    _wait_until_it_answers(process, port, log_path)
    return _Server(
        process,
        f"http://127.0.0.1:{port}",
        log_path,
        application_name,
        env.get("ADDRESS_RATE_LIMIT_PREFIX", ""),
    )


def _stop(server: _Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
    # A killed client's PostgreSQL backend exits a moment later; the test database can
    # only be flushed (or dropped) once it has.
    _wait_for_sessions(server.application_name, SESSIONS)


def _show_log(server: _Server, since: int = 0) -> None:
    """Shown with the test's report when it fails: the server side of "something went wrong"."""
    with server.log_path.open("rb") as log:
        log.seek(since)
        text = log.read().decode(errors="replace")
    sys.stderr.write(f"live server log:\n{text[-5000:]}")


class LiveServers:
    """The live servers of one pytest process, one per environment, kept from test to test."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.running: dict[tuple, _Server] = {}

    @contextmanager
    def serving(self, **env_overrides: str) -> Iterator[str]:
        """For one transactional test: the base URL of a server with this environment."""
        env = _server_env({**NO_PROCESS_CACHES, **env_overrides})
        key = tuple(sorted(env.items()))
        server = self.running.get(key)
        if server is None or server.process.poll() is not None:
            name = f"live-server-{uuid.uuid4().hex[:12]}"
            server = self.running[key] = _start(
                self.folder / f"{name}.log", {**env, "ADDRESS_RATE_LIMIT_PREFIX": f"test-{name}"}
            )
        _forget_address_limits(server.limits_prefix)
        log_start = server.log_path.stat().st_size
        try:
            yield server.url
        finally:
            # Nothing the test started may still be writing when its rows are flushed.
            _wait_for_sessions(server.application_name, BUSY_SESSIONS)
            if server.process.poll() is not None:
                sys.stderr.write(f"live server exited with {server.process.returncode}\n")
                del self.running[key]
            _show_log(server, since=log_start)

    def stop_all(self) -> None:
        for server in self.running.values():
            _stop(server)
        self.running.clear()


def _forget_address_limits(prefix: str) -> None:
    client = redis.Redis.from_url(settings.REDIS_URL)
    with contextlib.closing(client):
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)


def _wait_until_it_answers(process: subprocess.Popen, port: int, log_path: Path) -> None:
    """The socket accepts connections before daphne reads them: wait for an HTTP answer."""
    deadline = time.monotonic() + 60  # daphne imports the whole project first
    while True:
        probe = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        try:
            probe.request("GET", "/healthz")
            probe.getresponse().read()
            return  # an answer, whatever its status
        except (OSError, http.client.HTTPException):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                process.wait()
                raise RuntimeError(
                    "daphne did not start: " + log_path.read_text(errors="replace")[-2000:]
                ) from None
            time.sleep(0.1)
        finally:
            probe.close()


SESSIONS = (
    "SELECT count(*) FROM pg_stat_activity "
    "WHERE datname = current_database() AND application_name = %s"
)
BUSY_SESSIONS = SESSIONS + " AND state <> 'idle'"


def _wait_for_sessions(application_name: str, query: str, timeout: float = 10.0) -> None:
    """Wait until the `query` (SESSIONS, BUSY_SESSIONS) counts none of the server's
    database sessions. Only the live server's own sessions are waited for: the test
    process itself may keep an idle one open (from inside Playwright's event loop, where
    `connections.close_all()` cannot reach it), and waiting for that one would always
    take the whole timeout."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(query, [application_name])
            if cursor.fetchone()[0] == 0:
                return
            time.sleep(0.05)
