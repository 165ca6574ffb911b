"""Canned responses filled in for the customer at hand (the reply box inserts them)."""

from __future__ import annotations

import string

from conversations.context import CustomerContext
from conversations.models import CannedResponse


class _Keep(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"  # an unknown name stays visible, so a typo gets noticed


def variables(context: CustomerContext, *, agent) -> dict[str, str]:
    """The values a canned response may name, from the customer context."""
    extra = context.extra
    name = context.name or ""
    intent = extra.get("current_intent") or {}
    in_store = extra.get("in_store") or {}
    return {
        "name": name or "there",
        "first_name": name.split()[0] if name else "there",
        "agent": agent.get_short_name() or agent.get_username(),
        "cart_value": extra.get("cart_value") or "",
        "product": intent.get("name") or (in_store.get("product") or {}).get("name", ""),
        "store": (in_store.get("store") or {}).get("name", ""),
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
