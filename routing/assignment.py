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

from collections.abc import Callable

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from conversations import journal, statements
from conversations.batch import record_many
from conversations.locks import conversation_for_update
from conversations.models import AgentProfile, Case, Customer, Event, Team

# Cases that hold a seat of an agent's capacity.
ACTIVE_STATUSES = (Case.Status.OPEN, Case.Status.PENDING)


def _candidates(team: Team | None, *, needs_phone: bool, assignee_id: int | None):
    """The available agents of the team (any team's when None), and the case's own agent
    whatever their state: `assign` locks them all, then re-reads who is available."""
    agents = Q(available=True, user__is_active=True, user__is_staff=True)
    if team is not None:
        # a subquery, not a join: the membership rows are not locked, nor repeated per team
        agents &= Q(
            pk__in=AgentProfile.teams.through.objects.filter(team=team).values("agentprofile")
        )
    if needs_phone:
        agents &= ~Q(phone="")
    if assignee_id is not None:
        agents |= Q(user_id=assignee_id)
    return agents


def _locked(candidates: Q) -> list[AgentProfile]:
    # One lock order for everyone (primary key): concurrent routings queue, never deadlock.
    # Found and locked in one statement; what the lock protects is re-read from the rows it
    # returns (`available`), the users' flags as of the same statement.
    return list(
        AgentProfile.objects.select_for_update(no_key=True, of=("self",))
        .filter(candidates)
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
    first: Callable[[Customer, Case], dict | None] | None = None,
    team: Team | None = None,
    customer: Customer | None = None,
):
    """Give the case to the best available agent and record why; return the user or None.

    `exclude` (user ids) leaves agents out (the one a waiting case is taken from).
    `needs_phone` keeps to agents a call can ring. Nothing changes (and None comes back)
    when the case is resolved, or when no agent is free: then, with `record_waiting`, a
    `routing` event says the case waits.

    `first` is a decision taken under the same locks before the assignment (triage gives
    a new case its intent and team this way): called with the live customer and the case
    re-read under the conversation's lock, it changes the case and returns the event
    saying so (record() keywords) or None; that event is recorded with the assignment's,
    in one append, before it.
    With `first`, `team` is the team whose agents are candidates (the one `first` gives).
    `customer` is the case's customer when the caller knows it (else read from the case);
    a merge since is followed under the lock.
    """
    with transaction.atomic():
        profiles = _locked(
            _candidates(
                team if first is not None else case.team,
                needs_phone=needs_phone,
                assignee_id=case.assignee_id,
            )
        )
        # Re-read what the lock now protects: who is still available, and the case itself.
        profiles = [p for p in profiles if p.available and p.user.is_active and p.user.is_staff]
        customer = customer or case.conversation.customer
        conversation = conversation_for_update(customer)
        if conversation.customer_id != customer.pk:  # merged meanwhile: the survivor's
            customer = conversation.customer
        case = Case.objects.select_related("team").get(pk=case.pk)
        if case.status == Case.Status.RESOLVED:
            return None
        events = [event for event in [first(customer, case) if first else None] if event]
        current = next(
            (p for p in profiles if p.user_id == case.assignee_id and p.user_id not in exclude),
            None,
        )
        if current is not None and (not needs_phone or current.phone):
            _record(events)
            return current.user  # the agent on the case is here: they keep it
        choices = [p for p in profiles if p.user_id not in exclude]
        if needs_phone:
            choices = [p for p in choices if p.phone]
        chosen = pick(choices, loads(p.user_id for p in choices), skill)
        if chosen is None:
            # With no agent profile at all, routing is not set up here: no news to record.
            if record_waiting and AgentProfile.objects.exists():
                events.append(
                    _event(
                        customer,
                        case,
                        body=f"Case #{case.pk} waits: no available agent"
                        + (f" of {case.team}" if case.team else "")
                        + " has room",
                        data={"action": "waiting", "reason": reason},
                    )
                )
            _record(events)
            return None
        previous = case.assignee_id
        with statements.cursor() as cursor:  # prepared: planned once per connection
            cursor.execute(
                _ASSIGN_SQL,
                {
                    "case": case.pk,
                    "user": chosen.user_id,
                    "profile": chosen.pk,
                    "now": timezone.now(),
                    "again": int(previous is not None),
                },
            )
        case.assignee = chosen.user
        events.append(
            _event(
                customer,
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
        )
        _record(events)
        return chosen.user


# The assignment in one statement: the case's agent, the agent's last routing time, and
# the case's CaseAssignment (when routing last gave it to someone; `again` counts a
# reassignment when the case had an agent before).
_ASSIGN_SQL = """
WITH assigned AS (
    UPDATE conversations_case SET assignee_id = %(user)s WHERE id = %(case)s
), routed AS (
    UPDATE conversations_agentprofile SET last_routed_at = %(now)s WHERE id = %(profile)s
)
INSERT INTO routing_caseassignment (case_id, assigned_at, reassignments)
VALUES (%(case)s, %(now)s, %(again)s)
ON CONFLICT (case_id) DO UPDATE SET assigned_at = EXCLUDED.assigned_at,
    reassignments = routing_caseassignment.reassignments + EXCLUDED.reassignments
"""


def _event(customer: Customer, case: Case, *, body: str, data: dict) -> dict:
    """A `routing` event about the case, as record() keywords."""
    return {
        "customer": customer,
        "channel": Event.Channel.SYSTEM,
        "kind": "routing",
        "direction": Event.Direction.INTERNAL,
        "body": body,
        "data": {**data, "case": case.pk},
    }


def _record(events: list[dict]) -> None:
    # Two events (a new case's intent and its assignment) go in one append: one lock and
    # one broadcast rather than two.
    if len(events) == 1:
        journal.record(**events[0])
    elif events:
        record_many(events)
