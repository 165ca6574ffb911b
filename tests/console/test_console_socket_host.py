"""The agent socket's address on console pages (issue 18): a login cookie belongs to the
host name the agent opened, so a socket on the same machine must carry that name."""

from __future__ import annotations

import re

import pytest
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db
INBOX = "/admin/conversations/conversation/inbox/"


def socket_attrs(agent, host: str) -> tuple[str, str]:
    client = Client()
    client.force_login(agent)
    html = client.get(INBOX, HTTP_HOST=host).content.decode()
    match = re.search(r'data-ws="([^"]*)" data-open-instead="([^"]*)"', html)
    assert match, html
    return match.group(1), match.group(2)


@override_settings(
    WEBSOCKET_BASE_URL="ws://localhost:8001", PUBLIC_BASE_URL="http://localhost:8000"
)
def test_a_console_opened_on_127_0_0_1_opens_its_socket_there_too(agent):
    # `make run` names the socket ws://localhost:8001; the page on 127.0.0.1 must not
    # send it there, where the browser has no login cookie for it
    assert socket_attrs(agent, "127.0.0.1:8000") == (
        "ws://127.0.0.1:8001/ws/agent/",
        "http://localhost:8000/admin/conversations/conversation/inbox/",
    )
    assert socket_attrs(agent, "localhost:8000") == ("ws://localhost:8001/ws/agent/", "")
    assert socket_attrs(agent, "[::1]:8000")[0] == "ws://[::1]:8001/ws/agent/"


@override_settings(
    WEBSOCKET_BASE_URL="ws://127.0.0.1:8001", PUBLIC_BASE_URL="http://127.0.0.1:8000"
)
def test_a_console_opened_on_localhost_opens_its_socket_on_localhost(agent):
    assert socket_attrs(agent, "localhost:8000")[0] == "ws://localhost:8001/ws/agent/"


@override_settings(
    WEBSOCKET_BASE_URL="wss://chat.example.com",
    PUBLIC_BASE_URL="https://app.example.com",
    ALLOWED_HOSTS=["app.example.com", "agents.example.net"],
    SECURE_SSL_REDIRECT=False,
)
def test_a_socket_on_another_machine_keeps_its_name_and_the_page_says_where_to_go(agent):
    assert socket_attrs(agent, "app.example.com") == ("wss://chat.example.com/ws/agent/", "")
    assert socket_attrs(agent, "agents.example.net") == (
        "wss://chat.example.com/ws/agent/",
        "https://app.example.com/admin/conversations/conversation/inbox/",
    )
