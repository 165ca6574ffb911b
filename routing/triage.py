"""Routing of one inbound event: `route` (docs/routing.md). Called by routing's reaction
(hooks.py, off the request path) for every inbound need: a message, a call, a voicemail,
a missed call. Each step is a rule of rules.py; each decision is a `routing` event with its reason:

1. intent and team, once per case (text rules, then the customer context: a scan, a cart
   or a product being evaluated, a recent order; then the default) — and again from the
   text while the case still has the default intent;
2. hot: a hot rule's words, a frustrated customer (missed calls, repeated contacts across
   channels within hours), an open cart worth a hot rule's minimum; a hot case jumps the
   queue and the team's on-call agents are paged (paging.py, on the `hot` event);
3. after hours: the engagement acknowledgement (with the call-back link) and the case
   waits for the opening (the waiting-cases sweep assigns it then);
4. assignment (assignment.py).

`reevaluate` keeps the intent up to date afterwards: an order, a cart or a checkout
changes what the customer is doing, so the open case's intent is asked of the context
again (only while it is one the context decided: a text rule's intent stays).

A follow-up message on a routed, assigned case costs one statement (`facts_of`). A new
case's first event (bench/reactions.py) reads the customer's context only when a rule
reads it (when no intent rule matches the text, or a hot rule has a cart minimum), and
then only the headline (`headline_of`: one prepared statement): the rules read the
core's parts of it (a scan, the current intent, the last order and the cart's value),
not the dozen queries of the whole context. When nothing else happens between them (not
hot, open, nobody on the case), its intent and its assignment are decided in one
transaction under the same locks and their two events appended together: the same
decisions and events, in the same order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from conversations import cases, journal, statements
from conversations.context import build_context, headline_of
from conversations.journal import NEED_KINDS
from conversations.locks import conversation_for_update
from conversations.models import Case, Conversation, Customer, Event

from . import assignment, hours, rules
from .optional import optional
from .rules import Intent

ROUTED_KINDS = NEED_KINDS | {"missed_call"}
# The shop's events that change what the customer is doing (commerce journals
# order_placed, checkout_started and cart_updated with these kinds): the open case's
# intent is re-evaluated on each (`reevaluate`).
_WHAT_HAPPENED = {"order": "an order", "checkout": "a checkout", "cart": "a cart change"}
REEVALUATING_KINDS = frozenset(_WHAT_HAPPENED)


def skill_for(intent: str, snapshot: rules.Rules) -> str:
    for rule, _pattern in snapshot.intents:
        if rule.intent == intent and rule.skill:
            return rule.skill
    return ""


def set_intent(case: Case, intent: Intent, *, record: bool = True) -> Event | None:
    """Set the case's intent and team; record why (unless `record` is off: the default
    intent, when no rule matched, is no decision worth a line in the timeline). None when
    nothing was recorded."""
    with transaction.atomic():
        customer = case.conversation.customer
        conversation = conversation_for_update(customer)
        if conversation.customer_id != customer.pk:  # merged meanwhile: the survivor's
            customer = conversation.customer
        event = apply_intent(customer, case, intent, record=record)
        return journal.record(**event) if event else None


def apply_intent(
    customer: Customer, case: Case, intent: Intent, *, record: bool = True
) -> dict | None:
    """Under the conversation's lock: set the case's intent and team unless it is resolved
    or has them already; the event saying why (record() keywords, for the live
    `customer`), or None."""
    team_id = intent.team.pk if intent.team else None
    changed = (
        Case.objects.filter(pk=case.pk)
        .exclude(status=Case.Status.RESOLVED)
        .exclude(intent=intent.intent, team_id=team_id)
        .update(intent=intent.intent, team_id=team_id)
    )
    if not changed:
        return None
    case.intent, case.team = intent.intent, intent.team
    if not record:
        return None
    team = f", team {intent.team}" if intent.team else ""
    return {
        "customer": customer,
        "channel": Event.Channel.SYSTEM,
        "kind": "routing",
        "direction": Event.Direction.INTERNAL,
        "body": f"Intent: {intent.intent}{team} ({intent.reason})",
        "data": {
            "action": "intent",
            "case": case.pk,
            "intent": intent.intent,
            "team": intent.team.slug if intent.team else None,
            "reason": intent.reason,
        },
    }


def first_intent(body: str, context: Callable[[], rules.Context], snapshot: rules.Rules):
    """A new case's first intent and team, and whether it is worth a timeline line: from
    the text, else the context (`context()` builds it: only read when the text says
    nothing), else the default (no rule matched, nothing was decided: no line)."""
    intent = rules.intent_from_text(body, snapshot) or rules.intent_from_context(
        context(), snapshot
    )
    if intent is not None:
        return intent, True
    return rules.default_intent(snapshot), False


# What routing needs to know of the event's case, in one statement: its state, whether its
# agent is available, and the customer's recent inbound events (needs, the channels they
# came on, missed calls), bounded by seq (the timeline index) so a long history costs
# nothing more.
_FACTS_SQL = """
SELECT c.status, c.priority, c.intent, c.assignee_id, p.available,
    r.contacts, r.channels, r.missed, v.customer_id
FROM conversations_case c
JOIN conversations_conversation v ON v.id = c.conversation_id
LEFT JOIN conversations_agentprofile p ON p.user_id = c.assignee_id
CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE kind = ANY(%(needs)s)) AS contacts,
        count(DISTINCT channel) FILTER (WHERE kind = ANY(%(needs)s)) AS channels,
        count(*) FILTER (WHERE kind = 'missed_call') AS missed
    FROM conversations_event
    WHERE conversation_id = %(conversation)s AND seq > %(seq)s - %(depth)s
        AND seq <= %(seq)s AND direction = 'in' AND occurred_at >= %(since)s
) r
WHERE c.id = %(case)s
"""
RECENT_DEPTH = 50  # events looked back at most: enough to see a few contacts within hours


@dataclass(frozen=True)
class Facts:
    status: str
    priority: int
    intent: str
    assignee_id: int | None
    agent_available: bool | None  # None: no agent, or no agent profile
    contacts: int  # inbound needs within ROUTING_REPEAT_HOURS
    channels: int  # the channels they came on
    missed: int  # missed calls within ROUTING_REPEAT_HOURS
    customer_id: int  # whose conversation the case is in (merges may have moved it since)


def facts_of(event: Event) -> Facts | None:
    since = timezone.now() - timedelta(hours=settings.ROUTING_REPEAT_HOURS)
    with statements.cursor() as cursor:  # prepared: planned once per connection
        cursor.execute(
            _FACTS_SQL,
            {
                "needs": sorted(NEED_KINDS),
                "conversation": event.conversation_id,
                "seq": event.seq,
                "depth": RECENT_DEPTH,
                "since": since,
                "case": event.case_id,
            },
        )
        row = cursor.fetchone()
    return Facts(*row) if row is not None else None


def frustration(facts: Facts) -> str | None:
    """Missed calls, or repeated contacts across channels, within ROUTING_REPEAT_HOURS."""
    hours_ = settings.ROUTING_REPEAT_HOURS
    if facts.missed >= settings.ROUTING_HOT_MISSED_CALLS:
        return f"frustration: {facts.missed} missed calls within {hours_} hours"
    if facts.contacts >= settings.ROUTING_REPEAT_CONTACTS and facts.channels >= 2:
        return (
            f"frustration: {facts.contacts} contacts on {facts.channels} channels "
            f"within {hours_} hours"
        )
    return None


def route(event: Event) -> None:
    if (
        event.direction != Event.Direction.IN
        or event.kind not in ROUTED_KINDS
        or event.case_id is None
    ):
        return
    facts = facts_of(event)
    if facts is None or facts.status == Case.Status.RESOLVED:
        return
    snapshot = rules.current()
    loaded: list[Case] = []

    def the_case() -> Case:
        # The case itself is read only when a verb needs it: a follow-up on a routed,
        # assigned case costs the one statement above.
        if not loaded:
            loaded.append(
                Case.objects.select_related("team", "assignee", "conversation__customer").get(
                    pk=event.case_id
                )
            )
        return loaded[0]

    built: list[rules.Context] = []

    def context() -> rules.Context:
        # Read only when a rule reads it (no intent rule matched the text, or a hot rule
        # has a cart minimum), once: the headline of the case's customer, what the rules
        # read of the context in one statement (the whole context costs a dozen).
        if not built:
            headline = headline_of(facts.customer_id)
            built.append(headline or build_context(the_case().conversation.customer))
        return built[0]

    first = not facts.intent
    intent_now = facts.intent
    new_intent, worth_a_line = None, False
    # 1. intent and team
    if first:
        new_intent, worth_a_line = first_intent(event.body, context, snapshot)
        intent_now = new_intent.intent
    elif facts.intent == settings.ROUTING_DEFAULT_INTENT:
        intent = rules.intent_from_text(event.body, snapshot)
        if intent is not None:
            set_intent(the_case(), intent)
            intent_now = intent.intent
    # 2. hot
    reason = None
    if facts.priority < Case.Priority.HOT:
        reason = (
            rules.hot_from_text(event.body, snapshot)
            or (first and snapshot.cart_minimums and _hot_from_cart(context(), snapshot))
            or frustration(facts)
        )
    # 3. after hours
    store = hours.store_for(snapshot.stores, event.data.get("to", ""))
    is_open = hours.is_open(store)
    if new_intent is not None and not reason and is_open and facts.assignee_id is None:
        # The common new case: its intent and its assignment under the same locks, their
        # two events in one append (what the steps below do one transaction at a time).
        assignment.assign(
            # assign re-reads the case under the lock; before it, it reads only its pk and
            # agent (none, the facts say), so the case and its customer need no query here
            loaded[0] if loaded else Case(pk=event.case_id),
            customer=Customer(pk=facts.customer_id),
            reason=f"new case, intent {intent_now}",
            skill=skill_for(intent_now, snapshot),
            record_waiting=True,
            first=lambda customer, case: apply_intent(
                customer, case, new_intent, record=worth_a_line
            ),
            team=new_intent.team,
        )
        return
    if new_intent is not None:
        set_intent(the_case(), new_intent, record=worth_a_line)
    if reason:
        cases.mark_hot(the_case(), reason=reason, data={"event": event.pk})
    if not is_open:
        if first:
            wait_after_hours(the_case(), event, store)
        return
    # 4. assignment: a new case, or one whose agent went away
    if facts.assignee_id is None or not facts.agent_available:
        away = facts.assignee_id is not None
        case = the_case()
        assignment.assign(
            case,
            reason=(f"{case.assignee} is away" if away else f"new case, intent {intent_now}"),
            skill=skill_for(intent_now, snapshot),
            record_waiting=first or away,
        )


def context_intents() -> frozenset[str]:
    """The intents the customer context decides (and may therefore change its mind on)."""
    return frozenset(
        {
            settings.ROUTING_DEFAULT_INTENT,
            settings.ROUTING_EVALUATION_INTENT,
            settings.ROUTING_ORDER_INTENT,
        }
    )


def reevaluate(event: Event) -> Event | None:
    """After an event that changes the customer context (an order, a cart): ask the
    context again what the open case is about, and record the new intent when it
    differs. A text rule's intent ("refund") is what the customer said: it stays. A case
    not routed yet is left to `route`. Returns the routing event, or None."""
    case_id = (
        Conversation.objects.filter(pk=event.conversation_id)
        .values_list("current_case_id", flat=True)
        .first()
    )
    if case_id is None:
        return None
    case = Case.objects.select_related("team", "conversation__customer").get(pk=case_id)
    if case.status == Case.Status.RESOLVED or case.intent not in context_intents():
        return None
    snapshot = rules.current()
    # the headline holds every part the rules read (one prepared statement)
    context = headline_of(case.conversation.customer_id) or build_context(
        case.conversation.customer
    )
    intent = rules.intent_from_context(context, snapshot)
    if intent is None or intent.intent == case.intent:
        return None
    what = _WHAT_HAPPENED.get(event.kind, event.kind)
    return set_intent(case, replace(intent, reason=f"after {what}, {intent.reason}"))


def _hot_from_cart(context: rules.Context, snapshot: rules.Rules) -> str | None:
    # The cart's value: the core's Purchases part (commerce fills it), read in the JSON
    # view as the rules read the last order (rules.intent_from_context).
    return rules.hot_from_cart(context.extra.get("cart_value"), snapshot)


def wait_after_hours(case: Case, event: Event, store) -> None:
    """Closed: acknowledge (engagement) and let the case wait for the opening time."""
    opening = hours.next_opening(store)
    when = f"{opening:%a %H:%M} ({store.time_zone if store else 'UTC'})" if opening else "later"
    journal.record(
        customer=case.conversation.customer,
        channel=Event.Channel.SYSTEM,
        kind="routing",
        direction=Event.Direction.INTERNAL,
        body=f"After hours: case #{case.pk} waits for the opening, {when}",
        data={
            "action": "after_hours",
            "case": case.pk,
            "opens_at": opening.isoformat() if opening else None,
            "store": store.pk if store else None,
        },
    )
    if event.data.get("call_back"):
        return  # the customer just booked a call back: nothing to acknowledge
    acknowledge = optional(settings.ROUTING_AFTER_HOURS_ACKNOWLEDGE)
    if acknowledge is not None:
        acknowledge(event)
