"""Real-browser tests: Debian's chromium driven by Playwright, against daphne serving the
app (HTTP and websockets) from the test database.

In CI (`CI` set) a missing browser fails the run: a skipped browser test proves nothing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from django.db import connections
from django.test import Client
from websockets.sync.client import connect

CHROMIUM = "/usr/bin/chromium"
ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"
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


class KeptChromium:
    """One Playwright and one Chromium, kept from one browser test to the next.

    Launching Chromium and starting Playwright's driver cost a core about two seconds
    (1.3 s and 0.9 s on this machine), for every browser test when each launched its
    own. Each test still gets a browser context of its own (`browser_page`): its own
    cookies, storage, cache and pages, closed at its end, as pytest-playwright does it.

    Playwright's sync API keeps an event loop running in this thread while it is
    started, and with it running Django refuses synchronous ORM calls and pytest-asyncio
    cannot run its own loop. So they are kept only across a run of consecutive browser
    tests: after a test whose next one is not a browser test (or after the last), they
    stop (`pytest_runtest_teardown` below), and DJANGO_ALLOW_ASYNC_UNSAFE is set exactly
    while they run (the flush after each test runs with the loop still there).
    """

    def __init__(self):
        self._playwright = None
        self._browser = None
        self._allow_async_unsafe = None

    def browser(self):
        if self._browser is not None and self._browser.is_connected():
            return self._browser
        self.stop()  # a browser that died: a new one, with a new driver
        if not Path(CHROMIUM).exists():
            # a browser test that cannot run proves nothing: fail, saying what to install
            pytest.fail(f"{CHROMIUM} is missing: `apt-get install -y chromium`.")
        from playwright.sync_api import sync_playwright

        # Playwright's sync API runs an event loop in this thread; the tests' ORM calls
        # are still plain synchronous code.
        self._allow_async_unsafe = os.environ.get(ASYNC_UNSAFE)
        os.environ[ASYNC_UNSAFE] = "true"
        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        return self._browser

    def stop(self):
        if self._playwright is None:
            return
        try:
            if self._browser is not None:
                self._browser.close()
        finally:
            self._playwright.stop()
            self._playwright = self._browser = None
            connections.close_all()  # those opened while the loop ran
            if self._allow_async_unsafe is None:
                os.environ.pop(ASYNC_UNSAFE, None)
            else:
                os.environ[ASYNC_UNSAFE] = self._allow_async_unsafe


_chromium = KeptChromium()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """Stop the kept Chromium after the last of a run of browser tests (KeptChromium)."""
    try:
        return (yield)
    finally:
        if nextitem is None or "browser_page" not in nextitem.fixturenames:
            _chromium.stop()


def pytest_sessionfinish(session):
    _chromium.stop()  # an interrupted run: no driver or browser left behind


@pytest.fixture
def browser_page():
    """A page in a browser context of the test's own, on the kept Chromium."""
    context = _chromium.browser().new_context(viewport={"width": 1200, "height": 900})
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


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
