"""Rank the console's suggestions by what worked for customers like this one
(THROUGHLINE_SUGGESTION_RANKERS; docs/insights.md, "What worked").

An action *worked* when it was taken and a reply or an order followed, with no opt-out.
Each suggestion gets the rate at which it worked for the best of the customer's personas,
shrunk toward the action's rate over everyone, itself shrunk toward PRIOR_RATE: with no
data every rate is the prior, so the console's own order stands; with evidence the order
follows it. When a persona's rate is LIFT_TO_SAY times the action's overall rate on at
least MIN_EVIDENCE taken, the reason says so ("call backs work 3.0x as often for in-store
researchers (6 of 10)"). Showing the suggestions is recorded here (outcomes.record_shown).
"""

from __future__ import annotations

from dataclasses import replace

from django.db import connection

from conversations.context import CustomerContext
from conversations.models import Customer

from .context import Personas
from .models import Persona
from .outcomes import record_shown
from .personas import personas_of

PRIOR_RATE = 0.2
PRIOR_WEIGHT = 5.0  # how many taken outcomes the prior is worth
MIN_EVIDENCE = 5
LIFT_TO_SAY = 1.5
LABELS = {
    "call_back": "call backs",
    "answer": "quick answers",
    "cart": "help with the cart",
    "product": "product advice",
    "in_store": "in-store help",
    "cross_sell": "cross-sells",
}

_STATS_SQL = """
SELECT o.action, p.persona,
    count(*) FILTER (WHERE o.taken_at IS NOT NULL) AS taken,
    count(*) FILTER (WHERE o.taken_at IS NOT NULL AND o.opted_out_at IS NULL
        AND (o.replied_at >= o.taken_at OR o.ordered_at >= o.taken_at)) AS worked
FROM insights_outcome o
LEFT JOIN LATERAL (
    SELECT (value)::bigint AS persona FROM jsonb_array_elements_text(o.personas)
    WHERE (value)::bigint = ANY(%(personas)s::bigint[])
    UNION ALL SELECT NULL
) p ON true
WHERE o.action = ANY(%(actions)s::text[])
GROUP BY o.action, p.persona
"""


def rank(customer: Customer, context: CustomerContext | None, suggestions: list) -> list:
    if not suggestions:
        return suggestions
    personas = _personas(customer, context)
    by_id = {p.pk: p for p in personas}
    actions = [s.action for s in suggestions]
    record_shown(customer, actions, personas=list(by_id))
    stats = _stats(actions, list(by_id))
    ranked = []
    for position, suggestion in enumerate(suggestions):
        taken, worked = stats.get((suggestion.action, None), (0, 0))
        overall = (worked + PRIOR_WEIGHT * PRIOR_RATE) / (taken + PRIOR_WEIGHT)
        best, best_persona, evidence = overall, None, (0, 0)
        for persona_id in by_id:
            p_taken, p_worked = stats.get((suggestion.action, persona_id), (0, 0))
            rate = (p_worked + PRIOR_WEIGHT * overall) / (p_taken + PRIOR_WEIGHT)
            if rate > best:
                best, best_persona, evidence = rate, by_id[persona_id], (p_worked, p_taken)
        reason = suggestion.reason
        lift = best / overall if overall else 0
        if best_persona is not None and evidence[1] >= MIN_EVIDENCE and lift >= LIFT_TO_SAY:
            label = LABELS.get(suggestion.action, suggestion.action.replace("_", " "))
            reason = (
                f"{reason} · {label[0].upper()}{label[1:]} work {lift:.1f}x as often for "
                f"{best_persona.name} ({evidence[0]} of {evidence[1]})"
            )
        ranked.append((-best, position, replace(suggestion, reason=reason)))
    return [suggestion for _, _, suggestion in sorted(ranked, key=lambda item: item[:2])]


def _personas(customer: Customer, context: CustomerContext | None) -> list[Persona]:
    """The customer's personas: the context's `Personas` part when it has one (computed
    once for the page), else evaluated now."""
    provided = context.part(Personas) if context is not None else None
    if provided is not None:
        return list(Persona.objects.filter(pk__in=[p.id for p in provided.personas]))
    return personas_of(customer)


def _stats(
    actions: list[str], personas: list[int]
) -> dict[tuple[str, int | None], tuple[int, int]]:
    """(action, persona or None for everyone) -> (taken, worked), in one query."""
    with connection.cursor() as cursor:
        cursor.execute(_STATS_SQL, {"actions": actions, "personas": personas})
        return {
            (action, persona): (taken, worked)
            for action, persona, taken, worked in cursor.fetchall()
        }
