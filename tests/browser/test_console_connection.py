"""The console's visible connection state (issue 18, docs/console.md "Connection"): a
banner while the agent socket is down, reconnection that catches up, and a clear message
when the page cannot reach the socket at all."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from urllib.parse import urlsplit

import pytest
from django.db import connections
from django.test import Client
from playwright.sync_api import expect

from conversations import journal
from conversations.identities import resolve_customer

pytestmark = pytest.mark.django_db(transaction=True)
INBOX = "/admin/conversations/conversation/inbox/"


class SocketDoor:
    """A TCP door in front of the live server for the page's websocket. Shut, it drops
    every connection through it and hangs up on new ones at once: to the browser, the
    websocket process went away. Open again, it passes everything through."""

    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.is_open = True
        self.conns: list[socket.socket] = []
        self.lock = threading.Lock()
        self.running = True
        self.acceptor = threading.Thread(target=self._accept, daemon=True)
        self.acceptor.start()

    def _accept(self) -> None:
        while self.running:
            try:
                browser_side, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if not self.is_open:
                browser_side.close()
                continue
            browser_side.settimeout(None)  # not the listener's accept timeout
            server_side = socket.create_connection(("127.0.0.1", self.upstream_port))
            with self.lock:
                self.conns += [browser_side, server_side]
            for source, sink in [(browser_side, server_side), (server_side, browser_side)]:
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                end.close()

    def shut(self) -> None:
        self.is_open = False
        with self.lock:
            for conn in self.conns:
                with contextlib.suppress(OSError):  # already closed by its pump
                    conn.shutdown(socket.SHUT_RDWR)
            self.conns.clear()

    def open(self) -> None:
        self.is_open = True

    def close(self) -> None:
        self.running = False
        self.shut()
        self.acceptor.join()
        self.listener.close()


@pytest.fixture
def socket_door(live_server_url):
    door = SocketDoor(urlsplit(live_server_url).port)
    yield door
    door.close()


def log_in(page, user, host: str) -> None:
    """The browser carries `user`'s admin session for `host` (a cookie is per host name)."""
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": host}]
    )


def with_socket_at(page, socket_url: str) -> None:
    """Console pages name `socket_url` as their socket, as WEBSOCKET_BASE_URL would. (Set
    before console.js reads it: an init script's listener runs first. Rewriting the HTML
    through page.route would serve the page from no address at all, and Chromium's local
    network checks would then block its socket to 127.0.0.1.)"""
    page.add_init_script(
        "document.addEventListener('DOMContentLoaded', () => {"
        " for (const root of document.querySelectorAll('[data-ws]'))"
        f" root.dataset.ws = {json.dumps(socket_url)}; }});"
    )


def test_a_banner_shows_while_the_socket_is_down_and_the_page_catches_up_after(
    live_server_url, browser_page, socket_door, agent
):
    # given an agent on a conversation page whose socket goes through the door
    page = browser_page
    dana = resolve_customer("phone", "+14155550132", display_name="Dana Scully")
    first = journal.record(
        customer=dana, channel="sms", kind="message", direction="in", body="Is the T900 quiet?"
    )
    log_in(page, agent, live_server_url)
    with_socket_at(page, f"ws://127.0.0.1:{socket_door.port}/ws/agent/")
    page.goto(f"{live_server_url}/admin/conversations/conversation/{first.conversation_id}/change/")
    root = page.locator("#console-conversation")
    banner = page.locator("#connection-banner")
    expect(root).to_have_attribute("data-connected", "1")
    expect(banner).to_be_hidden()
    page.evaluate("window.stillHere = true")

    # when the socket goes away, the page says so
    socket_door.shut()
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Live updates paused — reconnecting…")
    expect(root).to_have_attribute("data-connected", "0")

    # and what happened meanwhile arrives once it is back, without a reload
    journal.record(
        customer=dana, channel="sms", kind="message", direction="in", body="Still there?"
    )
    connections.close_all()
    socket_door.open()
    expect(banner).to_be_hidden(timeout=20_000)  # the next try comes within the backoff
    expect(root).to_have_attribute("data-connected", "1")
    expect(page.locator("#timeline li.ch-sms").last).to_contain_text("Still there?")
    assert page.evaluate("window.stillHere") is True


def test_a_page_whose_login_cannot_reach_the_socket_says_which_address_to_open(
    live_server_url, browser_page, agent
):
    # given an agent logged in on "localhost" while the socket is named by its address,
    # as a deployment whose socket host is not the page's: the login cookie stays behind
    page = browser_page
    port = urlsplit(live_server_url).port
    on_localhost = f"http://localhost:{port}"
    log_in(page, agent, on_localhost)
    with_socket_at(page, f"ws://127.0.0.1:{port}/ws/agent/")

    # when the console opens there
    dana = resolve_customer("phone", "+14155550132", display_name="Dana Scully")
    event = journal.record(
        customer=dana, channel="sms", kind="message", direction="in", body="Hello"
    )
    connections.close_all()
    page.goto(f"{on_localhost}/admin/conversations/conversation/{event.conversation_id}/change/")

    # then after a few refused tries it says live updates are off and where to go instead
    banner = page.locator("#connection-banner.unreachable")
    expect(banner).to_contain_text("Live updates are off", timeout=20_000)
    # PUBLIC_BASE_URL of the live server (tests/browser/conftest.py) is http://127.0.0.1
    expected = f"http://127.0.0.1/admin/conversations/conversation/{event.conversation_id}/change/"
    expect(banner.get_by_role("link", name=expected)).to_have_attribute("href", expected)
    assert page.locator("#console-conversation").get_attribute("data-connected") == "0"
