"""Live updates: publish journal events to the Channels groups after commit.

Sync code (gunicorn workers, Celery) publishes straight to the groups of
`channels_redis.pubsub.RedisPubSubChannelLayer` over one Redis connection per process:
`async_to_sync(group_send)` would cost ~3 ms and a new connection per event. The group
naming, sharding and serialisation are the layer's own, so consumers cannot tell the
difference. The database stays the source of truth: a lost publish is healed by the
socket's resync from its last `seq`.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any, cast

import redis
from channels.layers import get_channel_layer
from channels_redis.utils import _consistent_hash, decode_hosts
from django.conf import settings
from django.db import transaction

from base.redis_client import redis_client

logger = logging.getLogger(__name__)

INBOX_GROUP = "inbox"


def conversation_group(conversation_id: int) -> str:
    return f"conv.{conversation_id}"


def event_payload(event) -> dict:
    """What sockets receive for one event (and what a resync replays)."""
    return {
        "id": event.pk,
        "conversation": event.conversation_id,
        "seq": event.seq,
        "case": event.case_id,
        "channel": event.channel,
        "direction": event.direction,
        "kind": event.kind,
        "body": event.body,
        "data": event.data,
        "occurred_at": event.occurred_at.isoformat(),
        "delivery_status": event.delivery_status,
        "author": event.author_id,
    }


def inbox_payload(conversation) -> dict:
    return {
        "conversation": conversation.pk,
        "customer": conversation.customer_id,
        "status": conversation.status,
        "priority": conversation.priority,
        "last_seq": conversation.last_seq,
        "last_channel": conversation.last_channel,
        "unread_count": conversation.unread_count,
        "last_inbound_at": conversation.last_inbound_at.isoformat()
        if conversation.last_inbound_at
        else None,
    }


def broadcast_on_commit(event, conversation, *, handover: StreamAppend | None = None) -> None:
    """Publish the event to its conversation's group and the inbox once the transaction
    commits; `handover` (the reactions' stream entry) goes in the same round trip."""
    messages = [
        (
            conversation_group(event.conversation_id),
            {"type": "journal.event", "event": event_payload(event)},
        ),
        (INBOX_GROUP, {"type": "inbox.update", "conversation": inbox_payload(conversation)}),
    ]
    transaction.on_commit(lambda: _publish_rollback_unsafe(messages, handover), robust=True)


def broadcast_status_on_commit(event) -> None:
    """Tell the event's conversation that its delivery status changed (after commit)."""
    message = {
        "type": "event.status",
        "event": {
            "id": event.pk,
            "conversation": event.conversation_id,
            "seq": event.seq,
            "delivery_status": event.delivery_status,
            "error_code": event.data.get("delivery_error", ""),
            "error_reason": event.data.get("delivery_error_reason", ""),
        },
    }
    transaction.on_commit(
        lambda: _publish_rollback_unsafe([(conversation_group(event.conversation_id), message)]),
        robust=True,
    )


def broadcast_resync_on_commit(conversation_id: int, *, moved_to: int) -> None:
    """Tell a conversation's sockets to reload it (after a merge renumbered or moved it)."""
    message = {"type": "conversation.resync", "conversation": conversation_id, "moved_to": moved_to}
    transaction.on_commit(
        lambda: _publish_rollback_unsafe([(conversation_group(conversation_id), message)]),
        robust=True,
    )


@dataclass(frozen=True)
class StreamAppend:
    """Entries to XADD to a stream on the Redis of REDIS_URL, with the publish."""

    stream: str
    entries: list[dict]
    maxlen: int


class _GroupPublisher:
    """One Redis client per shard and per process, made on first use (and again after a fork)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clients: list[redis.Redis] | None = None

    def _shards(self) -> list[redis.Redis]:
        if self._clients is None:
            with self._lock:
                if self._clients is None:
                    config = _layer_config()
                    self._clients = [
                        redis_client(timeout=2, url=host["address"])
                        for host in decode_hosts(config["hosts"])
                    ]
        return self._clients

    def _own_redis(self) -> redis.Redis:
        """The client of REDIS_URL: the same object as a shard's when the layer runs on it,
        so the hand-over rides that shard's round trip."""
        return redis_client(timeout=2)

    def publish(
        self, messages: list[tuple[str, dict]], handover: StreamAppend | None = None
    ) -> None:
        """Publish each (group, message), in one round trip per shard, with `handover`'s
        stream entries in the round trip to REDIS_URL's server."""
        layer = get_channel_layer()
        prefix = _layer_config().get("prefix", "asgi")
        shards = self._shards()
        # by shard index, and "own" for REDIS_URL's server when no shard is on it
        pipelines: dict[int | str, redis.client.Pipeline] = {}
        for group, message in messages:
            channel = f"{prefix}__group__{group}"  # RedisPubSubLoopLayer._get_group_channel_name
            shard = _consistent_hash(channel, len(shards))
            if shard not in pipelines:
                pipelines[shard] = shards[shard].pipeline(transaction=False)
            pipelines[shard].publish(channel, layer.serialize(message))
        if handover is not None and handover.entries:
            own = self._own_redis()
            key = next((k for k, c in enumerate(shards) if c is own), "own")
            if key not in pipelines:
                pipelines[key] = own.pipeline(transaction=False)
            for entry in handover.entries:
                # trimmed approximately, so a stream nobody reads cannot fill Redis
                pipelines[key].xadd(
                    handover.stream, entry, maxlen=handover.maxlen, approximate=True
                )
        for pipeline in pipelines.values():
            pipeline.execute()


def _layer_config() -> dict[str, Any]:
    # a cast: mypy reads the settings' literal as a mapping of strings to Collection[str]
    return cast(dict[str, Any], settings.CHANNEL_LAYERS["default"]["CONFIG"])


publisher = _GroupPublisher()


def _publish_rollback_unsafe(
    messages: list[tuple[str, dict]], handover: StreamAppend | None = None
) -> None:
    """Publish now, whatever becomes of the current transaction: call only after commit."""
    try:
        publisher.publish(messages, handover)
    except redis.RedisError:
        # The events are safe in the database; sockets catch up when they resync, and the
        # sweeps catch up with what their reactions would have done.
        logger.warning(
            "broadcast failed (live clients will resync; %d events not handed to reactions)",
            len(handover.entries) if handover else 0,
            exc_info=True,
        )
