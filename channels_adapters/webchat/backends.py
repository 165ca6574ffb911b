"""The web channel's transport: the Channels layer's groups, one per conversation.

The web has no provider to call and no backend setting of its own: recording an event
*is* its delivery (outbound.py). After commit, `conversations.broadcast` publishes the
event to its conversation's group (`conv.<id>`), and every open widget socket of that
conversation is in the group; consumers.py forwards what the shopper may see
(history.py says what that is). A visitor who has no conversation yet listens on a group
of their own (`conversations.visitors.visitor_group`) until their first message makes
one. What carries the groups is pluggable the way SMS_BACKEND is: CHANNEL_LAYERS in
config/settings/runtime.py (Redis pub/sub, shared by the `web` and `ws` processes).

These are the only places the widget joins, leaves or sends to a group.
"""

from __future__ import annotations

from conversations.broadcast import conversation_group
from conversations.visitors import visitor_group


async def join_conversation(layer, channel_name: str, conversation_id: int) -> None:
    await layer.group_add(conversation_group(conversation_id), channel_name)


async def leave_conversation(layer, channel_name: str, conversation_id: int) -> None:
    await layer.group_discard(conversation_group(conversation_id), channel_name)


async def join_visitor(layer, channel_name: str, visitor_id: str) -> None:
    await layer.group_add(visitor_group(visitor_id), channel_name)


async def leave_visitor(layer, channel_name: str, visitor_id: str) -> None:
    await layer.group_discard(visitor_group(visitor_id), channel_name)


async def shopper_typing(layer, conversation_id: int, typing: bool) -> None:
    """Tell the agents' sockets on this conversation that the shopper is (not) typing."""
    await layer.group_send(
        conversation_group(conversation_id),
        {"type": "widget.typing", "conversation": conversation_id, "typing": typing},
    )
