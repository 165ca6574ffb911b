"""Live updates: publish journal events to the Channels groups after commit.

Sync code (gunicorn workers, Celery) publishes straight to the groups of
`channels_redis.pubsub.RedisPubSubChannelLayer` over one Redis connection per process,
without waiting for Redis's answers (`_Sender`): `async_to_sync(group_send)` would cost
~3 ms and a new connection per event. The group
naming, sharding and serialisation are the layer's own, so consumers cannot tell the
difference. The database stays the source of truth: a lost publish is healed by the
socket's resync from its last `seq`.
"""

from __future__ import annotations

import logging
import os
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
    commits; `handover` (the reactions' stream entry) goes in the same send."""
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


class _Sender:
    """One Redis connection of this process that sends commands without waiting for the
    answers.

    A publish is done once Redis has the bytes: waiting for its answers would cost every
    `record()` (a webhook Twilio waits on) a round trip to Redis it needs nothing from, and
    on a busy machine that round trip costs as much as the append itself. The answers are
    read at the next send on the connection, by when they have long arrived; an error among
    them is logged then. Thread-safe; after a fork the child opens a connection of its own.
    """

    def __init__(self, client: redis.Redis) -> None:
        self._client = client
        self._lock = threading.Lock()
        self._connection: Any = None
        self._unread = 0

    def send(self, commands: list[tuple]) -> None:
        with self._lock:
            connection = self._connection
            if connection is None or connection.pid != os.getpid():
                connection = self._connection = self._client.connection_pool.get_connection()
                self._unread = 0
            self._read_answers(connection)
            packed = connection.pack_commands(commands)
            try:
                connection.send_packed_command(packed)
            except redis.ConnectionError:
                # a socket Redis closed since the last send (a restart): once more, afresh
                connection.send_packed_command(packed)
            self._unread = len(commands)

    def _read_answers(self, connection) -> None:
        """Read the previous send's answers, and make sure the socket is still open (a write
        to one Redis closed would be lost without an error); else the send reconnects."""
        unread, self._unread = self._unread, 0
        try:
            for _ in range(unread):
                try:
                    connection.read_response()
                except redis.ResponseError:
                    logger.warning("broadcast: Redis refused a command", exc_info=True)
            if connection.can_read():  # nothing is due: only a closed socket reads
                connection.disconnect()
        except (redis.ConnectionError, redis.TimeoutError):
            connection.disconnect()


class _GroupPublisher:
    """One Redis client per shard and per process, made on first use (and again after a fork),
    each publishing through one `_Sender`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clients: list[redis.Redis] | None = None
        self._senders: dict[int, _Sender] = {}  # by id() of the client

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
        so the hand-over rides that shard's send."""
        return redis_client(timeout=2)

    def _sender(self, client: redis.Redis) -> _Sender:
        sender = self._senders.get(id(client))
        if sender is None:
            with self._lock:
                sender = self._senders.setdefault(id(client), _Sender(client))
        return sender

    def publish(
        self, messages: list[tuple[str, dict]], handover: StreamAppend | None = None
    ) -> None:
        """Publish each (group, message), in one send per shard, with `handover`'s stream
        entries in the send to REDIS_URL's server; no answer is waited for (`_Sender`)."""
        layer = get_channel_layer()
        prefix = _layer_config().get("prefix", "asgi")
        shards = self._shards()
        batches: dict[int, tuple[redis.Redis, list[tuple]]] = {}

        def queue(client: redis.Redis, command: tuple) -> None:
            batches.setdefault(id(client), (client, []))[1].append(command)

        for group, message in messages:
            channel = f"{prefix}__group__{group}"  # RedisPubSubLoopLayer._get_group_channel_name
            queue(
                shards[_consistent_hash(channel, len(shards))],
                ("PUBLISH", channel, layer.serialize(message)),
            )
        if handover is not None and handover.entries:
            own = self._own_redis()
            for entry in handover.entries:
                # trimmed approximately, so a stream nobody reads cannot fill Redis
                fields = [part for pair in entry.items() for part in pair]
                queue(own, ("XADD", handover.stream, "MAXLEN", "~", handover.maxlen, "*", *fields))
        for client, commands in batches.values():
            self._sender(client).send(commands)


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
