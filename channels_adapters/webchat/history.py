"""What a shopper may see of their conversation, and how the widget resumes it.

The widget shows messages only (in or out, on any channel: the conversation continues by
SMS too); internal events (notes, routing, merges, identity links), commerce events and
the `data` of every event stay with the agents. Everything here is a read.
"""

from __future__ import annotations

from conversations.models import Conversation, Event

HISTORY_LIMIT = 200  # messages a session or a reconnect sends at most (the newest)
VISIBLE_KINDS = frozenset({"message"})
VISIBLE_DIRECTIONS = frozenset({Event.Direction.IN, Event.Direction.OUT})


def is_visible(payload: dict) -> bool:
    """Whether a broadcast event payload (conversations.broadcast.event_payload) may reach
    the shopper."""
    return payload.get("kind") in VISIBLE_KINDS and payload.get("direction") in VISIBLE_DIRECTIONS


def widget_payload(payload: dict, *, visitor_id: str = "") -> dict:
    """The shopper's view of one event payload: no data, no author id, no case."""
    source_id = payload.get("source_id") or ""
    prefix = f"{visitor_id}:" if visitor_id else None
    return {
        "seq": payload["seq"],
        "channel": payload["channel"],
        "direction": payload["direction"],
        "body": payload["body"],
        "occurred_at": payload["occurred_at"],
        "delivery_status": payload.get("delivery_status", ""),
        # the widget's own message id, so it can match its optimistic copy
        "client_id": source_id[len(prefix) :] if prefix and source_id.startswith(prefix) else "",
    }


PAYLOAD_FIELDS = (
    "seq",
    "channel",
    "direction",
    "kind",
    "body",
    "occurred_at",
    "delivery_status",
    "source_id",
)


def event_to_payload(event: Event) -> dict:
    return {
        "seq": event.seq,
        "channel": event.channel,
        "direction": event.direction,
        "kind": event.kind,
        "body": event.body,
        "occurred_at": event.occurred_at.isoformat(),
        "delivery_status": event.delivery_status,
        "source_id": event.source_id if event.channel == Event.Channel.WEB else "",
    }


def visible_history(
    conversation_id: int, *, after_seq: int = 0, limit: int = HISTORY_LIMIT
) -> tuple[list[dict], int, bool]:
    """What a widget that has handled everything up to `after_seq` is missing.

    Returns the newest `limit` visible events after `after_seq`, oldest first; the cursor
    (the conversation's last seq when read: every event up to it is in the answer or not
    visible, and everything after it arrives live on the socket); and whether the widget
    must first drop what it shows. `last_seq` moves in the same transaction as each insert,
    so every event at or below the cursor is committed when the cursor is read.

    A merge renumbers the survivor's timeline and then records a `merge` event above every
    old seq, so a cursor below a merge event is from the old numbering: start again at 0.
    """
    cursor = (
        Conversation.objects.filter(pk=conversation_id).values_list("last_seq", flat=True).first()
    ) or 0
    events = Event.objects.filter(conversation_id=conversation_id, seq__lte=cursor)
    reset = after_seq > 0 and (
        after_seq > cursor or events.filter(seq__gt=after_seq, kind="merge").exists()
    )
    if reset:
        after_seq = 0
    visible = (
        events.filter(seq__gt=after_seq, kind__in=VISIBLE_KINDS, direction__in=VISIBLE_DIRECTIONS)
        .only(*PAYLOAD_FIELDS)
        .order_by("-seq")[:limit]
    )
    return [event_to_payload(e) for e in reversed(visible)], cursor, reset
