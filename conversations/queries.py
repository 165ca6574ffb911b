"""Reads: timeline pages and resyncs, by keyset on (conversation, seq) so depth costs nothing."""

from conversations.models import Conversation, Event


def timeline_page(
    conversation: Conversation, *, before_seq: int | None = None, size: int = 50
) -> list[Event]:
    """The `size` events before `before_seq` (default: the newest), oldest first."""
    events = conversation.events.select_related("author").order_by("-seq")
    if before_seq is not None:
        events = events.filter(seq__lt=before_seq)
    return list(reversed(events[:size]))


def events_after(conversation_id: int, after_seq: int, *, limit: int = 500) -> list[Event]:
    """What a reconnecting socket missed, oldest first."""
    return list(
        Event.objects.filter(conversation_id=conversation_id, seq__gt=after_seq).order_by("seq")[
            :limit
        ]
    )
