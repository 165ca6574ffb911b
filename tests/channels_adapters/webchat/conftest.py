"""Widget test helpers: a site, visitor tokens, widget and agent sockets."""

from __future__ import annotations

import asyncio
import json

import pytest
from channels.db import database_sync_to_async as sync_to_async  # closes its connection
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import path

from channels_adapters.webchat.consumers import WidgetConsumer
from channels_adapters.webchat.models import Site
from config.asgi import application
from conversations.visitors import issue_visitor_token, new_visitor_id

# The shop's page, listed in the test site's allowed origins.
SHOP_ORIGIN = "http://localhost:3000"


@pytest.fixture
def site(db):
    return Site.objects.create(
        name="Stride Fitness", allowed_origins=[SHOP_ORIGIN], identify_hash_enabled=True
    )


def visitor() -> tuple[str, str]:
    """A new visitor id and its signed token."""
    visitor_id = new_visitor_id()
    return visitor_id, issue_visitor_token(visitor_id)


def widget_app_with_clock(clock):
    """The widget socket's route as config.asgi serves it, with the flood throttle on
    `clock` (a throttle.ManualClock) instead of time.monotonic."""
    return URLRouter([path("ws/widget/", WidgetConsumer.as_asgi(clock=clock))])


async def widget_socket(
    site_key: str, token: str, *, origin=SHOP_ORIGIN, after_seq=None, app=None, client=None
):
    query = f"site={site_key}&token={token}" + (
        f"&after_seq={after_seq}" if after_seq is not None else ""
    )
    communicator = WebsocketCommunicator(
        app or application, f"/ws/widget/?{query}", headers=[(b"origin", origin.encode())]
    )
    if client is not None:  # the peer's address (the communicator's scope has none)
        communicator.scope["client"] = (client, 50000)
    connected, code = await communicator.connect(timeout=5)
    return communicator, connected, code


async def open_widget(site, token, **kwargs):
    """A connected widget socket, past its replay: returns (communicator, ready frame, replay)."""
    communicator, connected, code = await widget_socket(site.public_key, token, **kwargs)
    assert connected, code
    replay = []
    while True:
        frame = await communicator.receive_json_from(timeout=5)
        if frame["type"] == "ready":
            return communicator, frame, replay
        replay.append(frame)


async def receive_until(communicator, wanted_type, timeout=5):
    async with asyncio.timeout(timeout):
        while True:
            frame = await communicator.receive_json_from(timeout=timeout)
            if frame["type"] == wanted_type:
                return frame


async def nothing_more(communicator, timeout=0.3) -> bool:
    return await communicator.receive_nothing(timeout=timeout)


def session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def agent_socket(user, conversation_id: int):
    """An agent socket subscribed to one conversation (past its replay)."""
    cookie = await sync_to_async(session_cookie)(user)
    communicator = WebsocketCommunicator(
        application,
        "/ws/agent/",
        headers=[(b"origin", b"http://localhost:8000"), (b"cookie", cookie)],
    )
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    await communicator.send_json_to(
        {"type": "subscribe", "conversation": conversation_id, "after_seq": 0}
    )
    await receive_until(communicator, "subscribed")
    return communicator


def post(client: Client, path: str, data: dict, *, origin: str = SHOP_ORIGIN):
    return client.post(
        path, json.dumps(data), content_type="application/json", headers={"Origin": origin}
    )
