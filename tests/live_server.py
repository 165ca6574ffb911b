"""The live server of the browser tests and the load-journey test: daphne serving
config.asgi (HTTP and websockets) on 127.0.0.1, against the test database."""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

from tests.conftest import subprocess_env

DAPHNE = [sys.executable, "-m", "daphne"]


@contextmanager
def daphne(log_path: Path, **env_overrides: str) -> Iterator[str]:
    """Run daphne for the block; yield its base URL. `env_overrides` as subprocess_env's."""
    # The listening socket is made here and handed to daphne (--fd): no other worker's
    # server can take the port between choosing it and binding it, and no request can
    # reach another worker's server by mistake.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    port = listener.getsockname()[1]
    env = subprocess_env(DATABASE_POOL="false", WEBSOCKET_BASE_URL="", **env_overrides)
    # Its database sessions carry a name of their own, so that the end of the block waits
    # for them (and only them) to be gone.
    application_name = f"live-server-{port}"
    url = env["DATABASE_URL"]
    env["DATABASE_URL"] = f"{url}{'&' if '?' in url else '?'}application_name={application_name}"
    # Its log goes to a file: a pipe nobody reads fills up and stops the server mid-test.
    with listener, log_path.open("wb") as log:
        process = subprocess.Popen(
            [*DAPHNE, "--fd", str(listener.fileno()), "config.asgi:application"],
            cwd=settings.BASE_DIR,
            env=env,
            pass_fds=[listener.fileno()],
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    try:
        _wait_until_it_answers(process, port, log_path)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        # shown with the test's report when it fails: the server side of "something went wrong"
        sys.stderr.write(f"live server log:\n{log_path.read_text(errors='replace')[-5000:]}")
        _wait_for_sessions_to_end(application_name)


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


def _wait_for_sessions_to_end(application_name: str, timeout: float = 10.0) -> None:
    """A killed client's PostgreSQL backend exits a moment later; the test database can
    only be flushed once it has. Only the live server's own sessions are waited for: the
    test process itself may keep an idle one open (from inside Playwright's event loop,
    where `connections.close_all()` cannot reach it), and waiting for that one would
    always take the whole timeout."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND application_name = %s",
                [application_name],
            )
            if cursor.fetchone()[0] == 0:
                return
            time.sleep(0.1)
