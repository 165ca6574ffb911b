"""Private notes: what agents tell each other about a customer, never sent to them."""

from __future__ import annotations

from conversations import journal
from conversations.models import Customer, Event

MAX_NOTE_CHARS = 10_000


def add_note(*, customer: Customer, author, body: str) -> Event:
    """Write an internal `note` event in the customer's timeline; return it.

    The author is kept in `data` as well as on the event: the journal's one-statement
    append does not carry the author column for internal events.
    """
    body = str(body).strip()
    if not body:
        raise ValueError("The note is empty.")
    if len(body) > MAX_NOTE_CHARS:
        raise ValueError(f"A note holds at most {MAX_NOTE_CHARS} characters.")
    return journal.record(
        customer=customer,
        channel=Event.Channel.AGENT,
        kind="note",
        direction=Event.Direction.INTERNAL,
        body=body,
        data={"author": author.pk, "author_name": str(author)},
        author=author,
    )
