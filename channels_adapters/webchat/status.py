"""The widget's delivery and read marks: the web channel's status callbacks.

Where Twilio posts a status callback for an SMS (sms/status.py), the widget sends a
`delivered` or `read` frame on its socket (consumers.py) once it has received or shown
our web messages up to a seq. `mark_web_messages` moves those messages' delivery status
forward, as a provider's callback would.
"""

from __future__ import annotations

from conversations.delivery import update_delivery_status
from conversations.models import Event

MARKS = ("delivered", "read")
MARK_BATCH = 50  # messages a single mark updates at most (the newest)


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
