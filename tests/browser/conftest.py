"""Real-browser tests: Debian's chromium driven by Playwright, against daphne serving the
app (HTTP and websockets) from the test database.

In CI (`CI` set) a missing browser fails the run: a skipped browser test proves nothing.
"""

from __future__ import annotations

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


DAPHNE = [sys.executable, "-m", "daphne", "-b", "127.0.0.1"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def live_server_url(transactional_db):
    """daphne running config.asgi on 127.0.0.1, against the test database."""
    port = free_port()
    process = subprocess.Popen(
        [*DAPHNE, "-p", str(port), "config.asgi:application"],
        cwd=settings.BASE_DIR,
        env=subprocess_env(
            DATABASE_POOL="false",
            WEBSOCKET_BASE_URL="",
            PUBLIC_BASE_URL="http://127.0.0.1",
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(
                    "daphne did not start: " + process.stderr.read().decode()[-2000:]
                ) from None
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    _wait_for_other_sessions_to_end()


def _wait_for_other_sessions_to_end(timeout: float = 10.0) -> None:
    """A killed client's PostgreSQL backend exits a moment later; the test database can
    only be flushed and dropped once it has."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
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
