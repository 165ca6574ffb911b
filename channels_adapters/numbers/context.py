"""What numbers add to the customer context (a `context_providers` plug): `Numbers`.

- `sends_from`: our number a text to this customer leaves from now (the sticky sender,
  senders.py), with its store;
- `opted_out_of`: our numbers the customer opted out of. An opt-out follows the number
  it was sent to: a STOP (or a stop in words) counts against the number of ours the
  customer last wrote to up to that message (its own `to` when it has one), and a later
  START on the same channel lifts it.

JSON view `numbers`: None with no number rows (a single-number shop: nothing to tell
apart), else `{"sends_from": "+1...", "store": "Downtown", "opted_out_of": ["+1..."]}`
(`sends_from` "": the settings' sender).
One query over the conversation's latest texts, calls and consent statements.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conversations.context import ContextPart
from conversations.models import Customer, Event

from .directory import Directory, current
from .hours import store_name
from .senders import USED_ON, following

STATEMENTS = 200  # the latest texts, calls and consent statements read


@dataclass(frozen=True)
class Numbers(ContextPart):
    known: bool = False  # numbers are rows
    sends_from: str = ""
    store: str = ""  # the name of the store that number belongs to ("": the shop's)
    opted_out_of: tuple[str, ...] = ()

    def as_extra(self) -> dict[str, Any]:
        if not self.known:
            return {"numbers": None}
        return {
            "numbers": {
                "sends_from": self.sends_from,
                "store": self.store,
                "opted_out_of": list(self.opted_out_of),
            }
        }


def opt_outs_by_number(directory: Directory, rows: list[tuple]) -> tuple[str, ...]:
    """Our numbers opted out of, from (kind, channel, to, action) rows in timeline order."""
    last_to: dict[str, str] = {}  # channel -> our number last written to on it
    out: dict[str, bool] = {}
    for kind, channel, to, action in rows:
        number = directory.number(to) if isinstance(to, str) else None
        if number is not None and number.address:
            last_to[channel] = number.address
        if kind == "consent" and action in ("opt_out", "opt_in") and channel in last_to:
            out[last_to[channel]] = action == "opt_out"
    return tuple(address for address, opted_out in out.items() if opted_out)


def provide(customer: Customer) -> Numbers:
    directory = current()
    if directory is None:
        return Numbers()
    recent = list(
        Event.objects.filter(conversation__customer_id=customer.pk, channel__in=USED_ON)
        .order_by("-seq")
        .values_list("kind", "channel", "data__to", "data__action", "direction")[:STATEMENTS]
    )
    recent.reverse()
    used = None
    for kind, _, to, _, direction in recent:
        if direction == Event.Direction.IN and kind != "consent" and isinstance(to, str):
            used = directory.number(to) or used
    sender = following(directory, used, Event.Channel.SMS)
    return Numbers(
        known=True,
        sends_from=(sender.address or sender.service_sid) if sender else "",
        store=store_name(sender.store_id) if sender and sender.store_id else "",
        opted_out_of=opt_outs_by_number(directory, [row[:4] for row in recent]),
    )
