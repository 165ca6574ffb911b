"""In the moment: contextual actions offered while the customer is present (docs/routing.md).

The widget calls `on_presence` when a shopper opens it (WIDGET_PRESENCE_HOOKS). The first
active `ContextualAction` whose condition holds over the customer context — say, two
missed calls today — and whose cooldown has passed is proposed through the engagement
arbiter (channel web, as a responsive nudge: an answer to the customer's own calls). When
the arbiter lets it through, an `offer` event (web, out) carries the pop-up: its text,
"Call me now" and "Schedule a call back" (the customer's signed call-back page); the
widget shows it live. `answer_offer` (WIDGET_OFFER_HANDLER) takes the shopper's choice:
"call_now" rings an agent first through the voice click-to-call (THROUGHLINE_CALL_BACK),
then bridges the customer. Every step is recorded.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from conversations import journal, links
from conversations.context import build_context
from conversations.identities import live_customer
from conversations.locks import conversation_for_update
from conversations.models import AgentProfile, Case, Conversation, Customer, Event
from conversations.outbox import Refused

from . import assignment, rules
from .conditions import context_values, holds
from .models import ActionTaken, ContextualAction
from .optional import optional

CALL_NOW, SCHEDULE = "call_now", "schedule"
CHOICES = (CALL_NOW, SCHEDULE)
SENT = "sent"


def on_presence(customer: Customer, *, channel: str = "web") -> Event | None:
    """The customer is present on `channel` now: make the first offer whose condition holds."""
    actions = [a for a in rules.current().actions if a.presence == channel]
    if not actions:
        return None  # the common case costs no query
    context = build_context(customer)
    values = context_values(context)
    for action in actions:
        if holds(action.condition, values):
            return offer(context.customer, action, reason=_why(action, values))
    return None


def _why(action: ContextualAction, values: dict) -> str:
    # the condition's values (the JSON view, conditions.py): what the manager's rule read
    frustration = values.get("frustration") or {}
    if frustration.get("missed_calls"):
        return f"{frustration['missed_calls']} missed calls, on the website now"
    return f'"{action.name}" holds, on the website now'


def offer(customer: Customer, action: ContextualAction, *, reason: str) -> Event | None:
    """Propose the action (cooldown, then the arbiter); return the `offer` event, or None."""
    now = timezone.now()
    with transaction.atomic():
        # The conversation lock serialises two tabs opening at once: one offer, not two.
        conversation = conversation_for_update(customer)
        customer = conversation.customer
        if ActionTaken.objects.filter(
            action=action, customer=customer, taken_at__gt=now - action.cooldown
        ).exists():
            return None  # offered within the cooldown
        taken = ActionTaken.objects.create(action=action, customer=customer, taken_at=now)
        refusal = _arbiter_refusal(customer, action, taken)
        if refusal:
            journal.record(
                customer=customer,
                channel=Event.Channel.SYSTEM,
                kind="routing",
                direction=Event.Direction.INTERNAL,
                body=f'Contextual action "{action.name}" not offered: {refusal}',
                data={"action": "contextual", "rule": action.pk, "sent": False, "why": refusal},
            )
            return None
        event = journal.record(
            customer=customer,
            channel=Event.Channel.WEB,
            kind="offer",
            direction=Event.Direction.OUT,
            body=action.message,
            data={
                "offer": taken.pk,
                "rule": action.pk,
                "reason": reason,
                "actions": [
                    {"id": CALL_NOW, "label": "Call me now"},
                    {
                        "id": SCHEDULE,
                        "label": "Schedule a call back",
                        "url": links.url_for(customer, "callback"),
                    },
                ],
            },
        )
        ActionTaken.objects.filter(pk=taken.pk).update(event=event)
    return event


def _arbiter_refusal(customer: Customer, action: ContextualAction, taken: ActionTaken) -> str:
    """Ask the engagement arbiter; the reason it gave when it did not send, else ""."""
    propose = optional(settings.ROUTING_ARBITER)
    if propose is None:
        return ""  # no engagement app: the offer stands on routing's own cooldown
    nudge = propose(
        customer,
        rule=f"routing_{action.action}",
        step=1,
        dedupe_key=f"routing:offer:{taken.pk}",
        topic="service",
        body=action.message,
        priority=action.priority,
        channels=("web",),
        # a pop-up: the arbiter decides, the `offer` event below shows it (no chat message)
        data={
            "responsive": True,
            "proposal": "call_back_offer",
            "offer": taken.pk,
            "delivery": "popup",
        },
    )
    status = getattr(nudge, "status", SENT)
    return "" if status == SENT else (getattr(nudge, "reason", "") or status)


def answer_offer(*, conversation_id: int, offer: int, choice: str) -> dict:
    """The shopper's answer to an offer shown in their widget: `{"ok", "message"}`."""
    if choice not in CHOICES:
        return {"ok": False, "message": "Unknown choice."}
    conversation = Conversation.objects.select_related("customer").get(pk=conversation_id)
    customer = live_customer(conversation.customer)
    taken = (
        ActionTaken.objects.select_related("action__team")
        .filter(pk=offer, customer=customer)
        .first()
    )
    if taken is None:
        return {"ok": False, "message": "This offer is no longer available."}
    if taken.answer == CALL_NOW:
        return {"ok": True, "message": "We are already calling you."}
    # claim the answer: a double click or two tabs ring one agent, not two
    if not ActionTaken.objects.filter(pk=taken.pk).exclude(answer=CALL_NOW).update(answer=choice):
        return {"ok": True, "message": "We are already calling you."}
    taken.answer = choice
    if choice == SCHEDULE:
        _record_answer(customer, taken, "chose to schedule a call back")
        return {"ok": True, "message": "Pick a time on the page we opened."}
    return _call_now(customer, taken)


def _call_now(customer: Customer, taken: ActionTaken) -> dict:
    action = taken.action
    case = Case.objects.filter(
        pk=Conversation.objects.filter(customer=customer).values("current_case_id")[:1]
    ).first()
    agent = None
    if case is not None:
        if action.team_id and case.team_id is None:
            case.team = action.team
        agent = assignment.assign(
            case, reason="the customer asked to be called now", needs_phone=True, skill=action.skill
        )
    else:
        profile = assignment.pick(
            list(
                AgentProfile.objects.filter(available=True, user__is_active=True)
                .exclude(phone="")
                .select_related("user")
            ),
            {},
            action.skill,
        )
        agent = profile.user if profile else None
    if agent is None:
        ActionTaken.objects.filter(pk=taken.pk).update(answer="")
        _record_answer(customer, taken, "chose a call now, but no agent with a phone is free")
        return {
            "ok": False,
            "message": "Sorry, nobody can call right now. Please schedule a call back.",
        }
    try:
        import_string(settings.THROUGHLINE_CALL_BACK)(customer=customer, agent=agent)
    except Refused as exc:
        ActionTaken.objects.filter(pk=taken.pk).update(answer="")
        _record_answer(customer, taken, f"chose a call now; the call failed: {exc}")
        return {
            "ok": False,
            "message": "Sorry, we could not call you. Please schedule a call back.",
        }
    _record_answer(customer, taken, f"chose a call now: {agent}'s phone rings first")
    return {"ok": True, "message": "We are calling you now: your phone will ring in a moment."}


def _record_answer(customer: Customer, taken: ActionTaken, what: str) -> Event:
    return journal.record(
        customer=customer,
        channel=Event.Channel.SYSTEM,
        kind="routing",
        direction=Event.Direction.INTERNAL,
        body=f'Offer "{taken.action.name}": the customer {what}',
        data={"action": "offer_answer", "offer": taken.pk, "answer": taken.answer or ""},
    )
