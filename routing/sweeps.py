"""The waiting-cases sweeps (Celery beat, every minute; docs/routing.md):

- `reassign_waiting`: open cases with no agent (after hours, nobody free, or never routed
  because their reaction was lost: they get their intent here too), with an agent
  who went away, or waiting longer than ROUTING_REASSIGN_AFTER_MINUTES for their agent's
  first answer, go to the best available agent (another one, for the last kind);
- `flag_unanswered`: an open case whose customer's last message has waited longer than its
  team's response target (ROUTING_DEFAULT_RESPONSE_MINUTES without a team) turns hot.

Each reads candidates only, through indexed conditions, in bounded batches.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db.models import DateTimeField, DurationField, ExpressionWrapper, F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from conversations import cases
from conversations.context import build_context
from conversations.models import AgentProfile, Case

from . import assignment, hours, rules
from .triage import first_intent, set_intent, skill_for

BATCH_SIZE = 200  # cases looked at per run: a few seconds of work at most


def reassign_waiting(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Assign or reassign waiting cases; return how many got an agent."""
    now = now or timezone.now()
    snapshot = rules.current()
    if not hours.is_open(hours.store_for(snapshot.stores), now):
        return 0  # closed: cases wait for the opening
    stale = now - timedelta(minutes=settings.ROUTING_REASSIGN_AFTER_MINUTES)
    away = AgentProfile.objects.filter(available=False).values("user_id")
    waiting = (
        Case.objects.filter(status=Case.Status.OPEN)
        .filter(
            Q(assignee__isnull=True)
            | Q(assignee__in=away)
            | Q(first_response_at__isnull=True, assignment__assigned_at__lt=stale)
        )
        .select_related("team", "assignee__agent_profile", "conversation__customer")
        .order_by("-priority", "opened_at")[:batch_size]
    )
    moved = 0
    for case in waiting:
        if not case.intent:
            # never routed (its event's reaction was lost with Redis): decide it now
            context = partial(build_context, case.conversation.customer)
            intent, worth_a_line = first_intent("", context, snapshot)
            set_intent(case, intent, record=worth_a_line)
            case.intent = intent.intent
        profile = getattr(case.assignee, "agent_profile", None) if case.assignee_id else None
        skill = skill_for(case.intent, snapshot)
        if case.assignee_id is None:
            reason, exclude = "waiting case: an agent is free now", ()
        elif profile is None or not profile.available:
            reason, exclude = f"{case.assignee} went away", (case.assignee_id,)
        else:
            minutes = settings.ROUTING_REASSIGN_AFTER_MINUTES
            reason = f"no answer from {case.assignee} within {minutes} minutes"
            exclude = (case.assignee_id,)
        before = case.assignee_id
        agent = assignment.assign(case, reason=reason, exclude=exclude, skill=skill)
        if agent is not None and agent.pk != before:
            moved += 1
    return moved


def flag_unanswered(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Make hot the open cases whose last inbound message waits past the team's target."""
    now = now or timezone.now()
    default = timedelta(minutes=settings.ROUTING_DEFAULT_RESPONSE_MINUTES)
    target = Coalesce(F("team__response_target"), Value(default, output_field=DurationField()))
    late = (
        Case.objects.filter(status=Case.Status.OPEN, priority__lt=Case.Priority.HOT)
        .filter(conversation__current_case=F("pk"))
        .filter(conversation__last_inbound_at__isnull=False)
        .filter(
            Q(conversation__last_outbound_at__isnull=True)
            | Q(conversation__last_outbound_at__lt=F("conversation__last_inbound_at"))
        )
        .alias(
            deadline=ExpressionWrapper(
                F("conversation__last_inbound_at") + target, output_field=DateTimeField()
            )
        )
        .filter(deadline__lt=now)
        .select_related("team", "conversation__customer")
        .order_by("conversation__last_inbound_at")[:batch_size]
    )
    flagged = 0
    for case in late:
        waited = int((now - case.conversation.last_inbound_at).total_seconds() // 60)
        limit = case.team.response_target if case.team else default
        reason = (
            f"frustration: unanswered for {waited} minutes "
            f"(target {int(limit.total_seconds() // 60)})"
        )
        if cases.mark_hot(case, reason=reason) is not None:
            flagged += 1
    return flagged
