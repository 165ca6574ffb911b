"""Canned responses filled in for the customer at hand (the reply box inserts them)."""

from __future__ import annotations

import string

from conversations.context import CurrentIntent, CustomerContext, InStore
from conversations.models import CannedResponse


class _Keep(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"  # an unknown name stays visible, so a typo gets noticed


def variables(context: CustomerContext, *, agent) -> dict[str, str]:
    """The values a canned response may name, from the customer context."""
    name = context.name or ""
    current = context.part(CurrentIntent)
    intent = current.intent if current else None
    in_store = context.part(InStore)
    visit = in_store.visit if in_store else None
    return {
        "name": name or "there",
        "first_name": name.split()[0] if name else "there",
        "agent": agent.get_short_name() or agent.get_username(),
        # commerce's field, read in the JSON view: console may not import commerce (its part
        # type lives there), and the core's CurrentIntent has the value only while the
        # cart is the intent, not while a product viewed since is
        "cart_value": context.extra.get("cart_value") or "",
        "product": (intent.name if intent else "") or (visit.product_name if visit else ""),
        "store": visit.store_name if visit else "",
    }


def fill(body: str, values: dict[str, str]) -> str:
    """Replace {names} in `body`; braces that name nothing known are left as they are."""
    try:
        return string.Formatter().vformat(body, (), _Keep(values))
    except (ValueError, IndexError):  # stray braces: show the text as written
        return body


def filled_responses(context: CustomerContext, *, agent) -> list[dict]:
    values = variables(context, agent=agent)
    return [
        {"shortcut": r.shortcut, "title": r.title, "body": fill(r.body, values)}
        for r in CannedResponse.objects.all()[:200]
    ]
