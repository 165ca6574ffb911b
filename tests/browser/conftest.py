"""Real-browser tests: Debian's chromium driven by Playwright, against daphne serving the
app (HTTP and websockets) from the test database.

In CI (`CI` set) a missing browser fails the run: a skipped browser test proves nothing.
"""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, connections
from django.test import Client
from websockets.sync.client import connect

from tests.conftest import subprocess_env

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


DAPHNE = [sys.executable, "-m", "daphne"]


@pytest.fixture
def live_server_url(transactional_db, tmp_path):
    """daphne running config.asgi on 127.0.0.1, against the test database."""
    # The listening socket is made here and handed to daphne (--fd): no other worker's
    # server can take the port between choosing it and binding it, and no request can
    # reach another worker's server by mistake.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    port = listener.getsockname()[1]
    env = subprocess_env(
        DATABASE_POOL="false",
        WEBSOCKET_BASE_URL="",
        PUBLIC_BASE_URL="http://127.0.0.1",
    )
    # Its database sessions carry a name of their own, so that the end of the test waits
    # for them (and only them) to be gone.
    application_name = f"live-server-{port}"
    url = env["DATABASE_URL"]
    env["DATABASE_URL"] = f"{url}{'&' if '?' in url else '?'}application_name={application_name}"
    # Its log goes to a file: a pipe nobody reads fills up and stops the server mid-test.
    log_path = tmp_path / "live-server.log"
    with listener, log_path.open("wb") as log:
        process = subprocess.Popen(
            [*DAPHNE, "--fd", str(listener.fileno()), "config.asgi:application"],
            cwd=settings.BASE_DIR,
            env=env,
            pass_fds=[listener.fileno()],
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    base_url = f"http://127.0.0.1:{port}"
    _wait_until_it_answers(process, port, log_path)
    yield base_url
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
    test process itself keeps an idle one open from inside Playwright's event loop, where
    `connections.close_all()` cannot reach it, and waiting for that one would always take
    the whole timeout."""
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


@pytest.fixture
def browser_page(monkeypatch):
    if not Path(CHROMIUM).exists():
        # a browser test that cannot run proves nothing: fail, saying what to install
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install -y chromium`.")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's ORM calls are
    # still plain synchronous code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1200, "height": 900})
        context.set_default_timeout(10_000)
        page = context.new_page()
        try:
            yield page
        finally:
            context.close()
            browser.close()
    connections.close_all()


def agent_socket(base_url: str, user):
    """An agent's `/ws/agent/` socket on the live server, logged in as `user`."""
    client = Client()
    client.force_login(user)
    ws_url = base_url.replace("http://", "ws://") + "/ws/agent/"
    return connect(
        ws_url,
        origin=base_url,
        additional_headers={"Cookie": f"sessionid={client.cookies['sessionid'].value}"},
        open_timeout=5,
    )


def receive(ws, wanted_type: str, timeout: float = 10.0) -> dict:
    """The next frame of this type (others are skipped)."""
    while True:
        frame = json.loads(ws.recv(timeout=timeout))
        if frame["type"] == wanted_type:
            return frame
