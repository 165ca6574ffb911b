"""What numbers add to the customer context (a `context_providers` plug): `Numbers`.

- `sends_from`: our number a text to this customer leaves from now (the sticky sender,
  senders.py), with its store;
- `opted_out_of`: our numbers the customer said STOP to, with no START since
  (optouts.py records the number of each consent statement).

JSON view `numbers`: None with no number rows (a single-number shop: nothing to tell
apart), else `{"sends_from": "+1...", "store": "Downtown", "opted_out_of": ["+1..."]}`
(`sends_from` "": the settings' sender).
Two queries: the conversation's latest texts and calls, and the consent notes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conversations.context import ContextPart
from conversations.models import Customer, Event

from .directory import current
from .optouts import opted_out_numbers
from .senders import LOOKBACK, USED_ON, following


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


def provide(customer: Customer) -> Numbers:
    directory = current(fresh=True)  # the page's query count must not depend on a cache
    if directory is None:
        return Numbers()
    recent = list(
        Event.objects.filter(conversation__customer_id=customer.pk, channel__in=USED_ON)
        .order_by("-seq")
        .filter(direction=Event.Direction.IN, data__has_key="to")
        .values_list("data__to", flat=True)[:LOOKBACK]
    )
    used = next((n for to in recent if isinstance(to, str) and (n := directory.number(to))), None)
    sender = following(directory, used, Event.Channel.SMS)
    return Numbers(
        known=True,
        sends_from=(sender.address or sender.service_sid) if sender else "",
        store=sender.store_name if sender else "",
        opted_out_of=tuple(opted_out_numbers(customer)),
    )
