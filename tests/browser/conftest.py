"""Real-browser tests: Debian's chromium driven by Playwright, against daphne serving the
app (HTTP and websockets) from the test database.

In CI (`CI` set) a missing browser fails the run: a skipped browser test proves nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.db import connections
from django.test import Client
from websockets.sync.client import connect

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def live_server_url(transactional_db, live_servers):
    """daphne running config.asgi on 127.0.0.1, against the test database."""
    with live_servers.serving(PUBLIC_BASE_URL="http://127.0.0.1") as base_url:
        yield base_url


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
