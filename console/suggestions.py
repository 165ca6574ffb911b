"""Suggested next actions for the agent, each with the reason it is suggested.

`suggest(context)` runs the built-in rules below over the customer context, then hands
the list to each ranker named in THROUGHLINE_SUGGESTION_RANKERS: dotted paths to
`rank(customer, context, suggestions) -> suggestions`, which may reorder, drop or add
(insights ranks by what worked before). A failing ranker is skipped, never fatal.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from base import plugins
from conversations.context import CurrentIntent, CustomerContext, InStore
from conversations.models import Event

logger = logging.getLogger(__name__)

# Topics an unanswered message may raise, and how the suggestion names them.
TOPICS = {
    "warranty": "the warranty question",
    "refund": "the refund request",
    "return": "the return question",
    "deliver": "the delivery question",
    "price": "the price question",
    "size": "the sizing question",
}


@dataclass(frozen=True)
class Suggestion:
    action: str  # call_back, answer, cart, in_store, product, cross_sell...
    label: str  # what to do, for the agent
    reason: str  # why, from the context
    score: float = 0.0  # higher first


def suggest(context: CustomerContext) -> list[Suggestion]:
    suggestions = sorted(_rules(context), key=lambda s: -s.score)
    for path in plugins.paths("suggestion_rankers"):
        try:
            suggestions = list(import_string(path)(context.customer, context, suggestions))
        except Exception:
            logger.exception("suggestion ranker %s failed", path)
    return suggestions


def _rules(context: CustomerContext) -> list[Suggestion]:
    """The built-in rules. The core's parts (InStore, CurrentIntent) are read typed; the
    outer apps' (voice's `frustration`, commerce's `open_cart`, a plain provider's
    `bought_together`) through their JSON view, `context.extra`: console may import only
    the core, and those part types live in the apps that provide them."""
    extra, found = context.extra, []
    frustration = extra.get("frustration") or {}
    if frustration.get("missed_calls"):
        n = frustration["missed_calls"]
        found.append(
            Suggestion(
                "call_back",
                "Offer a call back",
                f"{n} missed call{'s' if n != 1 else ''} in the last "
                f"{getattr(settings, 'VOICE_FRUSTRATION_HOURS', 24)} hours",
                100 + n,
            )
        )
    question = _unanswered(context)
    if question is not None:
        topic = next((name for word, name in TOPICS.items() if word in question.lower()), "")
        snippet = question if len(question) <= 80 else question[:77] + "…"
        found.append(
            Suggestion(
                "answer",
                f"Answer {topic}" if topic else "Answer the customer's question",
                f"Unanswered: “{snippet}”",
                90,
            )
        )
    in_store = context.part(InStore)
    if in_store and in_store.visit:
        visit = in_store.visit
        found.append(
            Suggestion(
                "in_store",
                f"Help with the {visit.product_name} in store",
                f"Scanned it at {visit.store_name} {_ago(visit.scanned_at)}",
                80,
            )
        )
    cart = extra.get("open_cart")
    if cart:
        found.append(
            Suggestion(
                "cart",
                "Help finish the order",
                f"Open cart: {cart['item_count']} item{'s' if cart['item_count'] != 1 else ''}, "
                f"{cart['value']} {cart['currency']}",
                70,
            )
        )
    current = context.part(CurrentIntent)
    intent = current.intent if current else None
    if intent is not None and intent.kind == "evaluating":
        found.append(
            Suggestion(
                "product",
                f"Help with the choice of the {intent.name}",
                f"Viewed {intent.views} times and not bought",
                60,
            )
        )
    for item in extra.get("bought_together") or []:
        found.append(
            Suggestion(
                "cross_sell",
                f"Cross-sell the {item['name']}",
                f"Bought with the {item['with']} by {item['share']}% of buyers",
                40,
            )
        )
    return found


def _unanswered(context: CustomerContext) -> str | None:
    """The customer's latest message when nothing went out to them after it."""
    for event in context.recent:  # newest first
        if event.direction == Event.Direction.OUT:
            return None
        if event.direction == Event.Direction.IN and event.kind == "message" and event.body:
            return event.body
    return None


def _ago(iso: str) -> str:
    try:
        minutes = int((timezone.now() - datetime.fromisoformat(iso)).total_seconds() // 60)
    except (TypeError, ValueError):
        return "recently"
    return "just now" if minutes < 1 else f"{minutes} min ago"
