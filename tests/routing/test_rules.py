"""Each routing rule on its own: text and context in, a decision with its reason out."""

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from conversations.context import CurrentIntent, InStore, Intent, Visit
from routing import rules
from routing.conditions import ConditionError, check_condition, holds
from routing.models import HotRule, IntentRule

pytestmark = pytest.mark.django_db


def test_an_intent_rule_matches_whole_phrases_in_any_case(support):
    IntentRule.objects.create(
        name="Orders", phrases=["where is my order", "tracking"], intent="order support",
        team=support,
    )  # fmt: skip
    snapshot = rules.current()

    found = rules.intent_from_text("Hi, WHERE is  my order?", snapshot)

    assert (found.intent, found.team) == ("order support", support)
    assert '"WHERE is  my order"' in found.reason
    assert rules.intent_from_text("retracking", snapshot) is None
    assert rules.intent_from_text("", snapshot) is None


def test_the_first_rule_by_position_wins(sales, support):
    IntentRule.objects.create(name="B", phrases=["treadmill"], intent="product", position=2)
    IntentRule.objects.create(name="A", phrases=["broken treadmill"], intent="repair", position=1)

    found = rules.intent_from_text("my broken treadmill", rules.current())

    assert found.intent == "repair"


def test_inactive_rules_are_ignored():
    IntentRule.objects.create(name="Off", phrases=["order"], intent="x", active=False)
    assert rules.intent_from_text("order", rules.current()) is None


@dataclass(frozen=True)
class Context:
    """What the context rules read of a customer context: its typed parts, its JSON view."""

    parts: tuple = ()
    extra: dict = field(default_factory=dict)

    def part(self, kind):
        return next((p for p in self.parts if type(p) is kind), None)


def test_a_cart_or_a_product_being_evaluated_means_product_evaluation_for_sales(sales):
    snapshot = rules.current()
    cart = Context((CurrentIntent(Intent("cart", item_count=1, names=("T900",))),))
    viewing = Context((CurrentIntent(Intent("evaluating", name="T900 Folding Treadmill")),))

    for context in (cart, viewing):
        found = rules.intent_from_context(context, snapshot)
        assert (found.intent, found.team) == ("product evaluation", sales)
    assert "T900 Folding Treadmill" in rules.intent_from_context(viewing, snapshot).reason


def test_a_scan_in_store_means_product_evaluation(sales):
    visit = Visit(store={"name": "Downtown"}, product={"name": "T900"}, placement={}, scanned_at="")
    context = Context((InStore(visit), CurrentIntent(None)))

    found = rules.intent_from_context(context, rules.current())

    assert found.intent == "product evaluation"
    assert found.reason == "context: scanned the T900 in Downtown"


def test_a_recent_order_means_order_support_and_an_old_one_nothing(support):
    # the last order is commerce's field: routing reads it in the JSON view
    recent = Context(
        extra={"last_order": {"order_id": "1001", "placed_at": timezone.now().isoformat()}}
    )
    old = Context(
        extra={
            "last_order": {
                "order_id": "9",
                "placed_at": (timezone.now() - timedelta(days=400)).isoformat(),
            }
        }
    )
    snapshot = rules.current()

    found = rules.intent_from_context(recent, snapshot)

    assert (found.intent, found.team) == ("order support", support)
    assert rules.intent_from_context(old, snapshot) is None
    assert rules.intent_from_context(Context(), snapshot) is None
    nothing_now = Context((InStore(None), CurrentIntent(None)), {"last_order": None})
    assert rules.intent_from_context(nothing_now, snapshot) is None


@pytest.mark.parametrize(
    "text", ["I want to CANCEL", "refund please", "it arrived broken", "my lawyer will call"]
)
def test_hot_keywords(text):
    HotRule.objects.create(
        name="Escalation", keywords=["cancel", "refund", "broken", "complaint", "lawyer"]
    )

    reason = rules.hot_from_text(text, rules.current())

    assert reason.startswith('rule "Escalation": the message says')


def test_hot_keywords_are_whole_words_and_patterns_work():
    HotRule.objects.create(name="Words", keywords=["cancel"])
    HotRule.objects.create(name="Twice", pattern=r"\bcharged (twice|2x)\b")
    snapshot = rules.current()

    assert rules.hot_from_text("the cancellation policy?", snapshot) is None
    assert "charged twice" in rules.hot_from_text("I was charged twice!", snapshot)


def test_a_cart_worth_the_threshold_is_hot():
    HotRule.objects.create(name="Big cart", min_cart_value=Decimal("1000"))
    snapshot = rules.current()

    assert "1299.00" in rules.hot_from_cart("1299.00", snapshot)
    assert rules.hot_from_cart("999.99", snapshot) is None
    assert rules.hot_from_cart(None, snapshot) is None


def test_rules_are_cached_until_forgotten(settings):
    settings.ROUTING_RULES_CACHE_SECONDS = 10  # tests read them afresh by default
    snapshot = rules.current()
    HotRule.objects.create(name="New", keywords=["refund"])

    assert rules.current() is snapshot  # within ROUTING_RULES_CACHE_SECONDS
    rules.forget()
    assert rules.hot_from_text("refund", rules.current())


def test_conditions_over_the_context():
    condition = {"frustration.missed_calls": {"gte": 2}, "open_cart": {"exists": False}}

    assert holds(condition, {"frustration": {"missed_calls": 2}})
    assert not holds(condition, {"frustration": {"missed_calls": 1}})
    assert not holds(condition, {"frustration": None})
    assert not holds(condition, {"frustration": {"missed_calls": 3}, "open_cart": {"id": 1}})
    assert holds({"cart_value": {"gte": "1000"}}, {"cart_value": "1299.00"})
    assert holds({"channels_used": {"contains": "voice"}}, {"channels_used": ["web", "voice"]})


def test_a_malformed_condition_is_refused():
    for bad in ([], {"a": 2}, {"a": {"above": 1}}):
        with pytest.raises(ConditionError):
            check_condition(bad)
