"""The agent socket `/ws/agent/`: the inbox feed and, on request, one conversation's events.

The consumer only authenticates, checks access, joins groups and forwards; writes go
through HTTP and the verbs. Client messages:
    {"type": "subscribe", "conversation": 12, "after_seq": 340}  -> replays seq > 340, then live
    {"type": "unsubscribe", "conversation": 12}
Server messages: "event", "inbox", "resync", "subscribed", "error", "status" (an
outbound message's delivery status changed: {"id", "conversation", "seq", "delivery_status", ...}),
"typing" ({"conversation", "from": "customer"|"agent", "name", "typing"}) and "viewers"
({"conversation", "agents": [names]}: the other agents who have it open now).

Collision detection: every agent socket subscribed to a conversation is also in its
agents-only group (`viewers_group`; the shopper's widget is not, so it never hears of
it). Subscribing announces "I have it open" there; the others answer "so have I", so the
newcomer learns who was there first; unsubscribing or leaving says "I closed it". Nothing
is stored: a socket that dies without a word is dropped by the others' heartbeat
(VIEWER_STALE_AFTER without news from it).
"""

import time

from channels.db import database_sync_to_async
from django.core.exceptions import PermissionDenied

from base.sockets import JsonSocketConsumer
from console.access import access_conversation, is_agent
from console.two_factor import socket_allowed
from conversations.broadcast import INBOX_GROUP, conversation_group, event_payload
from conversations.queries import events_after

REPLAY_LIMIT = 500
# Each socket says again that it still has its conversations open this often; a viewer
# silent for VIEWER_STALE_AFTER is gone (its socket died without a goodbye).
VIEWER_HEARTBEAT = 20.0
VIEWER_STALE_AFTER = 3 * VIEWER_HEARTBEAT


def viewers_group(conversation_id: int) -> str:
    return f"console.viewers.{conversation_id}"


class AgentConsumer(JsonSocketConsumer):
    async def connect(self):
        # The same permission as the console's pages (console.access): a staff user
        # without it is turned away with 4403, the socket's 403.
        if not await database_sync_to_async(is_agent)(self.scope.get("user")):
            await self.close(code=4403)
            return
        # and the second factor, as the pages ask it (console/two_factor.py)
        if not await database_sync_to_async(socket_allowed)(
            self.scope.get("user"), self.scope.get("session")
        ):
            await self.close(code=4403)
            return
        self.sent_seq: dict[int, int] = {}  # conversation -> highest seq sent, to drop repeats
        # conversation -> {other socket: (agent's name, last heard, monotonic)}
        self.viewers: dict[int, dict[str, tuple[str, float]]] = {}
        user = self.scope["user"]
        self.agent_name = user.get_full_name() or user.get_username()
        await self.channel_layer.group_add(INBOX_GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard(INBOX_GROUP, self.channel_name)
        for conversation_id in list(getattr(self, "sent_seq", {})):
            await self._leave(conversation_id)

    async def _leave(self, conversation_id: int) -> None:
        self.sent_seq.pop(conversation_id, None)
        self.viewers.pop(conversation_id, None)
        await self.channel_layer.group_discard(
            conversation_group(conversation_id), self.channel_name
        )
        await self._announce(conversation_id, viewing=False)
        await self.channel_layer.group_discard(viewers_group(conversation_id), self.channel_name)

    async def _announce(self, conversation_id: int, *, viewing: bool, ask: bool = False) -> None:
        await self.channel_layer.group_send(
            viewers_group(conversation_id),
            {
                "type": "agent.viewing",
                "conversation": conversation_id,
                "viewing": viewing,
                "ask": ask,  # a newcomer asks the others to say they are there too
                "name": self.agent_name,
                "sender": self.channel_name,
            },
        )

    async def receive_json(self, content, **kwargs):
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "subscribe":
            await self._subscribe(content)
        elif kind == "unsubscribe":
            conversation_id = self._int(content.get("conversation"))
            if conversation_id in self.sent_seq:
                await self._leave(conversation_id)
        elif kind == "typing":
            await self._typing(content)
        elif kind == "heartbeat":
            # the page says every VIEWER_HEARTBEAT that it still has its conversation open
            for conversation_id in list(self.sent_seq):
                await self._announce(conversation_id, viewing=True)
                await self._send_viewers(conversation_id)
        else:
            await self.send_json(
                {
                    "type": "error",
                    "error": "Unknown message type; use subscribe, unsubscribe, typing or "
                    "heartbeat.",
                }
            )

    async def _subscribe(self, content):
        conversation_id = self._int(content.get("conversation"))
        after_seq = self._int(content.get("after_seq", 0))
        if conversation_id is None or after_seq is None or after_seq < 0:
            await self.send_json(
                {"type": "error", "error": "subscribe needs integer conversation and after_seq."}
            )
            return
        try:
            await database_sync_to_async(access_conversation)(self.scope["user"], conversation_id)
        except PermissionDenied as exc:
            await self.send_json(
                {"type": "error", "conversation": conversation_id, "error": str(exc)}
            )
            return
        # Join first, then replay: an event committed in between arrives twice and the
        # seq check in journal_event drops the repeat, so nothing falls in the gap.
        first_time = conversation_id not in self.sent_seq
        self.sent_seq[conversation_id] = after_seq
        await self.channel_layer.group_add(conversation_group(conversation_id), self.channel_name)
        if first_time:
            self.viewers[conversation_id] = {}
            await self.channel_layer.group_add(viewers_group(conversation_id), self.channel_name)
            await self._announce(conversation_id, viewing=True, ask=True)
        missed = await database_sync_to_async(events_after)(
            conversation_id, after_seq, limit=REPLAY_LIMIT
        )
        for event in missed:
            await self._forward(event_payload(event))
        await self.send_json(
            {
                "type": "subscribed",
                "conversation": conversation_id,
                "complete": len(missed) < REPLAY_LIMIT,
            }
        )

    async def _forward(self, event: dict):
        conversation_id = event["conversation"]
        if event["seq"] <= self.sent_seq.get(conversation_id, 0):
            return
        self.sent_seq[conversation_id] = event["seq"]
        await self.send_json({"type": "event", "event": event})

    # group message handlers
    async def journal_event(self, message):
        if message["event"]["conversation"] in self.sent_seq:
            await self._forward(message["event"])

    async def inbox_update(self, message):
        await self.send_json({"type": "inbox", "conversation": message["conversation"]})

    async def event_status(self, message):
        # A delivery status moved on (queued -> sent -> delivered, or failed): update in place.
        if message["event"]["conversation"] in self.sent_seq:
            await self.send_json({"type": "status", "event": message["event"]})

    async def conversation_resync(self, message):
        conversation_id = message["conversation"]
        if conversation_id in self.sent_seq:
            self.sent_seq[conversation_id] = (
                0  # seqs were renumbered: the next subscribe replays all
            )
            await self.send_json(
                {"type": "resync", "conversation": conversation_id, "moved_to": message["moved_to"]}
            )

    # Typing indicators (the web-chat widget, docs/widget.md): ephemeral group messages,
    # never journal events. {"type": "typing", "conversation": 12, "typing": true} from an
    # agent reaches the shopper's widget; the shopper's typing arrives here as "typing".
    async def _typing(self, content):
        conversation_id = self._int(content.get("conversation"))
        if conversation_id not in self.sent_seq:
            await self.send_json({"type": "error", "error": "Subscribe before typing."})
            return
        await self.channel_layer.group_send(
            conversation_group(conversation_id),
            {
                "type": "agent.typing",
                "conversation": conversation_id,
                "typing": bool(content.get("typing")),
                "name": self.agent_name,
                "sender": self.channel_name,
            },
        )

    async def agent_viewing(self, message):
        conversation_id = message["conversation"]
        sender = message["sender"]
        if sender == self.channel_name or conversation_id not in self.viewers:
            return
        if message["viewing"]:
            self.viewers[conversation_id][sender] = (message["name"], time.monotonic())
            if message.get("ask"):
                await self._announce(conversation_id, viewing=True)
        else:
            self.viewers[conversation_id].pop(sender, None)
        await self._send_viewers(conversation_id)

    async def _send_viewers(self, conversation_id: int) -> None:
        here = self.viewers.get(conversation_id, {})
        stale = time.monotonic() - VIEWER_STALE_AFTER
        for sender in [s for s, (_, heard) in here.items() if heard < stale]:
            del here[sender]
        await self.send_json(
            {
                "type": "viewers",
                "conversation": conversation_id,
                "agents": sorted({name for name, _ in here.values()}),
            }
        )

    async def widget_typing(self, message):
        if message["conversation"] in self.sent_seq:
            await self.send_json(
                {
                    "type": "typing",
                    "conversation": message["conversation"],
                    "from": "customer",
                    "typing": message["typing"],
                }
            )

    async def agent_typing(self, message):
        if message["conversation"] in self.sent_seq and message.get("sender") != self.channel_name:
            await self.send_json(
                {
                    "type": "typing",
                    "conversation": message["conversation"],
                    "from": "agent",
                    "name": message.get("name", ""),
                    "typing": message["typing"],
                }
            )

    @staticmethod
    def _int(value):
        try:
            return int(value)
        except (TypeError, ValueError):
            return None
