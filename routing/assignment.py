"""Who takes a case: `assign` (docs/routing.md, "Assignment").

The agent already on the case keeps it while available. Otherwise the case goes to an
available agent of its team (any available agent when it has none) with spare capacity,
the one with the skill first, then the least loaded, then whoever was routed to longest
ago. Concurrency: the candidates' profiles are locked `FOR NO KEY UPDATE` in primary-key
order before their open cases are counted, so two cases routed at once are counted one
after the other and never overfill an agent; every assignment takes the agent locks
before the conversation lock, the one order that cannot deadlock.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone

from conversations import journal
from conversations.locks import conversation_for_update
from conversations.models import AgentProfile, Case, Event, Team

from .models import CaseAssignment

# Cases that hold a seat of an agent's capacity.
ACTIVE_STATUSES = (Case.Status.OPEN, Case.Status.PENDING)


def _candidates(team: Team | None, *, needs_phone: bool):
    agents = AgentProfile.objects.filter(available=True, user__is_active=True, user__is_staff=True)
    if team is not None:
        agents = agents.filter(teams=team)
    if needs_phone:
        agents = agents.exclude(phone="")
    return agents


def _locked(ids) -> list[AgentProfile]:
    # One lock order for everyone (primary key): concurrent routings queue, never deadlock.
    return list(
        AgentProfile.objects.select_for_update(no_key=True)
        .filter(pk__in=list(ids))
        .select_related("user")
        .order_by("pk")
    )


def loads(user_ids) -> dict[int, int]:
    """Open cases held per agent (users' ids)."""
    rows = (
        Case.objects.filter(assignee_id__in=list(user_ids), status__in=ACTIVE_STATUSES)
        .values("assignee_id")
        .annotate(n=Count("pk"))
    )
    return {row["assignee_id"]: row["n"] for row in rows}


def pick(profiles: list[AgentProfile], load: dict[int, int], skill: str) -> AgentProfile | None:
    """The best of these (locked) profiles for a case needing `skill`; None if all are full."""
    free = [p for p in profiles if load.get(p.user_id, 0) < p.capacity]
    if not free:
        return None
    never = timezone.now().replace(year=1)

    def order(p: AgentProfile):
        skilled = bool(skill) and skill in (p.skills or [])
        return (not skilled, load.get(p.user_id, 0), p.last_routed_at or never, p.pk)

    return min(free, key=order)


def assign(
    case: Case,
    *,
    reason: str,
    exclude: tuple[int, ...] = (),
    needs_phone: bool = False,
    skill: str = "",
    record_waiting: bool = False,
):
    """Give the case to the best available agent and record why; return the user or None.

    `exclude` (user ids) leaves agents out (the one a waiting case is taken from).
    `needs_phone` keeps to agents a call can ring. Nothing changes (and None comes back)
    when the case is resolved, or when no agent is free: then, with `record_waiting`, a
    `routing` event says the case waits.
    """
    with transaction.atomic():
        ids = set(_candidates(case.team, needs_phone=needs_phone).values_list("pk", flat=True))
        if case.assignee_id is not None:
            ids |= set(
                AgentProfile.objects.filter(user_id=case.assignee_id).values_list("pk", flat=True)
            )
        profiles = _locked(ids)
        # Re-read what the lock now protects: who is still available, and the case itself.
        profiles = [p for p in profiles if p.available and p.user.is_active and p.user.is_staff]
        conversation = conversation_for_update(case.conversation.customer)
        case = Case.objects.select_related("team").get(pk=case.pk)
        if case.status == Case.Status.RESOLVED:
            return None
        current = next(
            (p for p in profiles if p.user_id == case.assignee_id and p.user_id not in exclude),
            None,
        )
        if current is not None and (not needs_phone or current.phone):
            return current.user  # the agent on the case is here: they keep it
        choices = [p for p in profiles if p.user_id not in exclude]
        if needs_phone:
            choices = [p for p in choices if p.phone]
        chosen = pick(choices, loads(p.user_id for p in choices), skill)
        if chosen is None:
            # With no agent profile at all, routing is not set up here: no news to record.
            if record_waiting and AgentProfile.objects.exists():
                _record(
                    conversation,
                    case,
                    body=f"Case #{case.pk} waits: no available agent"
                    + (f" of {case.team}" if case.team else "")
                    + " has room",
                    data={"action": "waiting", "reason": reason},
                )
            return None
        previous = case.assignee_id
        Case.objects.filter(pk=case.pk).update(assignee=chosen.user)
        now = timezone.now()
        AgentProfile.objects.filter(pk=chosen.pk).update(last_routed_at=now)
        CaseAssignment.objects.update_or_create(
            case=case,
            defaults={"assigned_at": now},
            create_defaults={"assigned_at": now},
        )
        if previous is not None:
            CaseAssignment.objects.filter(case=case).update(reassignments=F("reassignments") + 1)
        case.assignee = chosen.user
        _record(
            conversation,
            case,
            body=f"Case #{case.pk} assigned to {chosen.user}: {reason}",
            data={
                "action": "assign",
                "assignee": chosen.user_id,
                "previous": previous,
                "reason": reason,
                **({"skill": skill} if skill else {}),
            },
        )
        return chosen.user


def _record(conversation, case: Case, *, body: str, data: dict) -> Event:
    return journal.record(
        customer=conversation.customer,
        channel=Event.Channel.SYSTEM,
        kind="routing",
        direction=Event.Direction.INTERNAL,
        body=body,
        data={**data, "case": case.pk},
    )
