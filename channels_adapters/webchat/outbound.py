"""Messages to the shopper in the widget: `reply_on_web`, the web channel's reply verb.

The web channel needs no provider: recording the event *is* the delivery, since the
broadcast after commit reaches the shopper's open sockets and a closed widget reads the
message from its history when it comes back. So replies are written straight to the
journal rather than through `conversations.outbox` (whose rows exist for providers that
may fail or answer late, and which sends to an address: a widget has none).
"""

from __future__ import annotations

from conversations import journal
from conversations.models import Customer, Event


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
