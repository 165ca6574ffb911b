"""The routing rules, each a small pure function over text and context (docs/routing.md).

`current()` loads the active rules once per ROUTING_RULES_CACHE_SECONDS per process (the
admin calls `forget()` on save), so routing an event reads no rule table. The functions
below take what they need and return a decision with its reason, so each is testable on
its own:

- `intent_from_text`: the first `IntentRule` with a phrase in the message;
- `intent_from_context`: commerce and in-store context — a cart, a product being
  evaluated or a scan means "product evaluation" (sales); a recent order, "order support";
- `hot_from_text`: a `HotRule` keyword or pattern in the message;
- `hot_from_cart`: an open cart worth a `HotRule`'s minimum.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Protocol, TypeVar

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from conversations.context import ContextPart, CurrentIntent, InStore
from conversations.models import Team

from . import hours
from .models import ContextualAction, HotRule, IntentRule

P = TypeVar("P", bound=ContextPart)


@dataclass(frozen=True)
class Intent:
    intent: str
    team: Team | None
    skill: str
    reason: str


class Context(Protocol):
    """What the context rules read: the core's typed parts and the JSON view of them all
    (CustomerContext and Headline are both one)."""

    @property
    def extra(self) -> dict: ...  # read-only: the contexts are frozen dataclasses

    def part(self, kind: type[P]) -> P | None: ...


@dataclass(frozen=True)
class CompiledHotRule:
    name: str
    words: re.Pattern | None
    pattern: re.Pattern | None
    min_cart_value: Decimal | None


@dataclass(frozen=True)
class Rules:
    intents: list[tuple[IntentRule, re.Pattern]] = field(default_factory=list)
    hot: list[CompiledHotRule] = field(default_factory=list)
    actions: list[ContextualAction] = field(default_factory=list)
    teams: dict[str, Team] = field(default_factory=dict)
    stores: list[hours.Store] = field(default_factory=list)  # with business hours, main store first

    @property
    def cart_minimums(self) -> bool:
        """Whether a hot rule has a cart minimum (else `hot_from_cart` never holds)."""
        return any(rule.min_cart_value is not None for rule in self.hot)


def words_pattern(words: list[str]) -> re.Pattern | None:
    """Whole words or phrases, any case, any run of spaces between a phrase's words."""
    parts = [r"\s+".join(map(re.escape, w.split())) for w in words if w.strip()]
    if not parts:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)", re.IGNORECASE)


_cache: dict = {"rules": None, "at": 0.0}


def forget() -> None:
    """Drop the cached rules (after an edit); the next event reloads them."""
    _cache["rules"] = None


def current() -> Rules:
    rules, at = _cache["rules"], _cache["at"]
    if rules is None or time.monotonic() - at > settings.ROUTING_RULES_CACHE_SECONDS:
        rules = _load()
        _cache["rules"], _cache["at"] = rules, time.monotonic()
    return rules


def _load() -> Rules:
    intents = []
    for rule in IntentRule.objects.filter(active=True).select_related("team"):
        pattern = words_pattern(rule.phrases if isinstance(rule.phrases, list) else [])
        if pattern is not None:
            intents.append((rule, pattern))
    hot = [
        CompiledHotRule(
            name=rule.name,
            words=words_pattern(rule.keywords if isinstance(rule.keywords, list) else []),
            pattern=re.compile(rule.pattern, re.IGNORECASE) if rule.pattern else None,
            min_cart_value=rule.min_cart_value,
        )
        for rule in HotRule.objects.filter(active=True)
    ]
    actions = list(
        ContextualAction.objects.filter(active=True).select_related("team").order_by("-priority")
    )
    return Rules(
        intents=intents,
        hot=hot,
        actions=actions,
        teams={t.slug: t for t in Team.objects.all()},
        stores=hours.stores_with_hours(),
    )


# ---------------------------------------------------------------------------- intent


def intent_from_text(text: str, rules: Rules) -> Intent | None:
    if not text:
        return None
    for rule, pattern in rules.intents:
        found = pattern.search(text)
        if found:
            return Intent(
                intent=rule.intent,
                team=rule.team,
                skill=rule.skill,
                reason=f'rule "{rule.name}": the message says "{found.group(0)}"',
            )
    return None


def intent_from_context(context: Context, rules: Rules) -> Intent | None:
    """Commerce and in-store context: evaluating a product beats an old order.

    `context` is a CustomerContext or a Headline (triage.py reads the headline): anything
    with the core's typed parts, `part(InStore)` and `part(CurrentIntent)`, and the JSON
    view `extra`. The last order is read in the JSON view (`last_order`, the core's
    `Purchases` part, which commerce fills), as a context of any shape gives it.
    """
    in_store = context.part(InStore)
    visit = in_store.visit if in_store else None
    current = context.part(CurrentIntent)
    intent = current.intent if current else None
    evaluation = None
    if visit is not None:
        evaluation = f"scanned the {visit.product_name} in {visit.store_name}"
    elif intent is not None and intent.kind in ("cart", "checkout"):
        evaluation = f"an open cart of {intent.item_count} item(s)"
    elif intent is not None and intent.kind == "evaluating":
        evaluation = f"viewing the {intent.name or 'product'}"
    if evaluation:
        return Intent(
            intent=settings.ROUTING_EVALUATION_INTENT,
            team=rules.teams.get(settings.ROUTING_EVALUATION_TEAM),
            skill="",
            reason=f"context: {evaluation}",
        )
    order = context.extra.get("last_order")
    if order:
        placed = parse_datetime(order.get("placed_at") or "")
        window = timedelta(days=settings.ROUTING_ORDER_SUPPORT_DAYS)
        if placed is not None and placed >= timezone.now() - window:
            return Intent(
                intent=settings.ROUTING_ORDER_INTENT,
                team=rules.teams.get(settings.ROUTING_ORDER_TEAM),
                skill="",
                reason=f"context: order {order.get('order_id', '')} placed {placed:%Y-%m-%d}",
            )
    return None


def default_intent(rules: Rules) -> Intent:
    return Intent(
        intent=settings.ROUTING_DEFAULT_INTENT,
        team=rules.teams.get(settings.ROUTING_DEFAULT_TEAM),
        skill="",
        reason="no rule matched",
    )


# ---------------------------------------------------------------------------- hot


def hot_from_text(text: str, rules: Rules) -> str | None:
    if not text:
        return None
    for rule in rules.hot:
        for pattern in (rule.words, rule.pattern):
            found = pattern.search(text) if pattern is not None else None
            if found:
                return f'rule "{rule.name}": the message says "{found.group(0)}"'
    return None


def hot_from_cart(cart_value: str | None, rules: Rules) -> str | None:
    if cart_value in (None, ""):
        return None
    try:
        value = Decimal(str(cart_value))
    except InvalidOperation:
        return None
    for rule in rules.hot:
        if rule.min_cart_value is not None and value >= rule.min_cart_value:
            return (
                f'rule "{rule.name}": an open cart worth {value} (at least {rule.min_cart_value})'
            )
    return None
