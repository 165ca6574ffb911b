"""Suggestions are ranked by what worked for the same persona; outcomes are recorded."""

from dataclasses import replace
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from base import plugins
from console.suggestions import Suggestion, suggest
from conversations import journal
from conversations.context import build_context
from conversations.identities import resolve_customer
from insights import outcomes, ranker
from insights.context import Personas
from insights.models import Outcome, Persona
from instore.scans import record_scan
from tests.instore.factories import PlacementFactory

pytestmark = pytest.mark.django_db

SUGGESTIONS = [
    Suggestion("cart", "Help finish the order", "Open cart", 70),
    Suggestion("call_back", "Offer a call back", "Scanned in store", 60),
]


@pytest.fixture
def researchers():
    return Persona.objects.create(
        name="in-store researchers",
        slug="researchers",
        rules=[{"field": "scanned_in_store", "op": "is", "value": "any"}],
    )


def researcher(n: int):
    visitor = f"v_r{n}"
    record_scan(placement=PlacementFactory(), visitor_id=visitor)
    return resolve_customer("visitor", visitor)


def history(persona: Persona, action: str, *, taken: int, worked: int):
    """Outcomes of `action` for other researchers: taken `taken` times, `worked` of them
    followed by an order."""
    now = timezone.now() - timedelta(days=2)
    for n in range(taken):
        Outcome.objects.create(
            customer=resolve_customer("email", f"{action}{n}@example.org"),
            action=action,
            personas=[persona.pk],
            shown_at=now,
            taken_at=now,
            ordered_at=now + timedelta(hours=1) if n < worked else None,
        )


def test_with_no_history_the_consoles_order_stands(researchers):
    ranked = ranker.rank(researcher(1), None, SUGGESTIONS)
    assert [s.action for s in ranked] == ["cart", "call_back"]
    assert [s.reason for s in ranked] == ["Open cart", "Scanned in store"]


def test_the_rank_follows_what_worked_for_the_same_persona_and_says_so(researchers):
    history(researchers, "call_back", taken=10, worked=6)
    history(researchers, "cart", taken=10, worked=1)
    # everyone else: call backs rarely work (so the lift is the persona's)
    for n in range(20):
        Outcome.objects.create(
            customer=resolve_customer("email", f"x{n}@example.org"),
            action="call_back",
            personas=[],
            taken_at=timezone.now(),
        )
    ranked = ranker.rank(researcher(2), None, SUGGESTIONS)
    assert [s.action for s in ranked] == ["call_back", "cart"]
    assert (
        "work" in ranked[0].reason
        and "as often for in-store researchers (6 of 10)" in ranked[0].reason
    )
    assert ranked[1].reason == "Open cart"


def test_outcomes_flip_the_rank_as_they_are_recorded(researchers):
    history(researchers, "cart", taken=6, worked=5)
    assert ranker.rank(researcher(3), None, SUGGESTIONS)[0].action == "cart"
    history(researchers, "call_back", taken=30, worked=29)
    assert ranker.rank(researcher(4), None, SUGGESTIONS)[0].action == "call_back"


def test_showing_taking_and_what_followed_are_recorded(researchers, agent):
    customer = researcher(5)
    ranker.rank(customer, None, SUGGESTIONS)
    ranker.rank(customer, None, SUGGESTIONS)  # the page opened again: still one each
    assert Outcome.objects.filter(customer=customer).count() == 2
    assert Outcome.objects.get(customer=customer, action="cart").personas == [researchers.pk]
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        reply = journal.record(customer=customer, channel="web", kind="message",
                               direction="out", body="Can I help?", author=agent)  # fmt: skip
    outcomes.on_event(reply)
    with time_machine.travel(timezone.now() + timedelta(minutes=30)):
        order = journal.record(customer=customer, channel="api", kind="order", direction="in")
    outcomes.on_event(order)
    cart = Outcome.objects.get(customer=customer, action="cart")
    call = Outcome.objects.get(customer=customer, action="call_back")
    assert cart.taken_at is not None and cart.ordered_at is not None
    assert call.taken_at is None and call.ordered_at is not None  # shown, not taken
    stop = journal.record(customer=customer, channel="sms", kind="consent", direction="in",
                          data={"action": "opt_out"})  # fmt: skip
    outcomes.on_event(stop)
    assert Outcome.objects.filter(customer=customer, opted_out_at__isnull=False).count() == 2


def test_the_console_uses_the_ranker(researchers, settings):
    assert "insights.ranker.rank" in plugins.paths("suggestion_rankers")
    customer = researcher(6)
    journal.record(customer=customer, channel="web", kind="message", direction="in",
                   body="Does the warranty cover the motor?")  # fmt: skip
    suggestions = suggest(build_context(customer))
    assert suggestions
    assert set(Outcome.objects.filter(customer=customer).values_list("action", flat=True)) == {
        s.action for s in suggestions
    }


def test_the_ranker_reads_the_personas_the_context_has(researchers):
    customer = researcher(7)
    context = build_context(customer)
    assert [p.slug for p in context.part(Personas).personas] == ["researchers"]
    # a page whose context says "no persona" (computed when it opened) ranks with none
    with_none = replace(context, parts={**context.parts, Personas: Personas(())})

    ranker.rank(customer, with_none, SUGGESTIONS)

    assert list(Outcome.objects.filter(customer=customer).values_list("personas", flat=True)) == [
        [],
        [],
    ]
