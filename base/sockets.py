"""What every websocket consumer of ours shares: dispatch without a thread hop.

Channels' `AsyncConsumer.dispatch` runs `close_old_connections` in the sync thread (a
`sync_to_async` hop) before every message it hands to a handler: each group message a
socket forwards, each frame from the client. Django does the same around each request,
so that a request's database connection past CONN_MAX_AGE, or broken, is not reused.

Our consumers never touch the database on the event loop (Django refuses it there): they
reach it only through `database_sync_to_async`, which itself closes the old connections
in that thread before and after each call. The hop at dispatch adds nothing to that, and
it is most of what forwarding one group message costs: the hand-off to the executor's one
thread and back, queued behind every other socket's, for each message to each socket
(bench.widget_fanout; issue 17).
"""

from __future__ import annotations

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncJsonWebsocketConsumer


class JsonSocketConsumer(AsyncJsonWebsocketConsumer):
    """A JSON websocket consumer whose handlers reach the database only through
    `database_sync_to_async` (the module's docstring says why that lets dispatch skip
    the hop)."""

    async def dispatch(self, message):
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)
