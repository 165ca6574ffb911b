"""Messages to the shopper in the widget, and the widget's delivery and read marks.

The web channel needs no provider: recording the event *is* the delivery, since the
broadcast after commit reaches the shopper's open sockets and a closed widget reads the
message from its history when it comes back. So replies are written straight to the
journal rather than through `conversations.outbox` (whose rows exist for providers that
may fail or answer late, and which sends to an address: a widget has none).
"""

from __future__ import annotations

from conversations import journal
from conversations.delivery import update_delivery_status
from conversations.models import Customer, Event

MARKS = ("delivered", "read")
MARK_BATCH = 50  # messages a single mark updates at most (the newest)


def reply_on_web(*, customer: Customer, author, body: str) -> Event:
    """An agent's (or the platform's, author=None) message to the shopper's widget."""
    body = str(body).strip()
    if not body:
        raise ValueError("There is nothing to send: the message is empty.")
    return journal.record(
        customer=customer,
        channel=Event.Channel.WEB,
        kind="message",
        direction=Event.Direction.OUT,
        body=body,
        author=author,
        delivery_status="sent",
    )


def mark_web_messages(*, conversation_id: int, up_to_seq: int, status: str) -> int:
    """The widget got (`delivered`) or showed (`read`) our web messages up to `up_to_seq`.

    Status only moves forward (conversations.delivery), and each change reaches the
    agents' sockets as an `event.status`. Returns how many messages moved.
    """
    if status not in MARKS:
        raise ValueError(f"Unknown mark {status!r}; use one of {', '.join(MARKS)}.")
    events = Event.objects.filter(
        conversation_id=conversation_id,
        seq__lte=up_to_seq,
        channel=Event.Channel.WEB,
        direction=Event.Direction.OUT,
        kind="message",
        delivery_status__in=["sent", "delivered"] if status == "read" else ["sent"],
    ).order_by("-seq")[:MARK_BATCH]
    return sum(update_delivery_status(event, status) for event in events)
