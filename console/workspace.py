"""The agent's workspace (docs/console.md, "The workspace"): what the home counts, which
conversations a due call back pins to the top of the list, and agent presence.

The home's figures are four bounded COUNTs on indexed columns; the pinned rows are at most
PINNED_CALL_BACKS conversations read by one query, so the list still costs the same
number of queries with 100 or 10,000 open cases.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from conversations.models import AgentProfile, Case, Conversation
from routing.models import ScheduledCallBack

# A due call back stays first in the hot list this many at a time: the minute sweep
# raises them as their slots come, and an agent works a handful at once.
PINNED_CALL_BACKS = 10
# Counts stop here ("99+"): the home answers in the same time for any inbox.
COUNT_CAP = 100


@dataclass(frozen=True)
class HomeCounts:
    mine: int
    unassigned: int
    hot: int
    call_backs_due: int
    call_backs_scheduled: int

    def as_json(self) -> dict:
        return {
            "mine": self.mine,
            "unassigned": self.unassigned,
            "hot": self.hot,
            "call_backs_due": self.call_backs_due,
            "call_backs_scheduled": self.call_backs_scheduled,
            "cap": COUNT_CAP,
        }


def _capped(queryset: QuerySet) -> int:
    # COUNT over a LIMITed subquery of ids (no row's last words): stops after COUNT_CAP
    # rows whatever the inbox's size
    return queryset.order_by().values("pk")[:COUNT_CAP].count()


def home_counts(user, *, now=None) -> HomeCounts:
    """What the agent's home shows: their queue, the unassigned, the hot, the call backs."""
    from console.inbox import InboxFilters, inbox_queryset

    now = now or timezone.now()

    def open_rows(**filters) -> QuerySet:
        return inbox_queryset(InboxFilters(**filters), user=user, now=now)

    return HomeCounts(
        mine=_capped(open_rows(view="mine")),
        unassigned=_capped(open_rows(view="unassigned")),
        hot=_capped(open_rows(hot=True)),
        call_backs_due=_capped(due_call_backs()),
        call_backs_scheduled=_capped(
            ScheduledCallBack.objects.filter(status=ScheduledCallBack.Status.SCHEDULED)
        ),
    )


def due_call_backs() -> QuerySet:
    """Call backs whose time came and whose case is still unresolved: the agent owes the
    customer a call now."""
    return ScheduledCallBack.objects.filter(
        status=ScheduledCallBack.Status.DUE, case__isnull=False
    ).exclude(case__status=Case.Status.RESOLVED)


def pinned_call_backs(rows: QuerySet) -> list[Conversation]:
    """The rows of this inbox (its filters already applied) whose case has a due call back,
    the longest due first: they go above everything else, hot included."""
    due = due_call_backs().order_by("due_at").values("case_id")[:PINNED_CALL_BACKS]
    pinned = list(rows.filter(current_case_id__in=due)[:PINNED_CALL_BACKS])
    for row in pinned:
        row.call_back_due = True
    return pinned


# ---- agent presence (AgentProfile.available: routing gives away agents no new cases)


def is_available(user) -> bool:
    return AgentProfile.objects.filter(user=user, available=True).exists()


def set_available(user, available: bool) -> AgentProfile:
    """The agent's available / away toggle. Away: routing.assignment passes them over for
    new cases and calls; what they hold stays theirs."""
    profile, _ = AgentProfile.objects.get_or_create(user=user)
    if profile.available != available:
        profile.available = available
        profile.save(update_fields=["available"])
    return profile


# ---- "Take the next conversation"

TAKE_NEXT_TRIES = 5


def take_next(user) -> Conversation | None:
    """Give the agent the first unassigned conversation of the inbox (due call backs and
    hot first, then the longest waiting) and return it; None when nothing is unassigned.

    Two agents pressing it at once get two different conversations: "still unassigned?"
    is asked under the conversation's lock, the one every case change takes first, so the
    second agent waits for the first, sees the case taken and tries the next row.
    """
    from console.inbox import InboxFilters, inbox_page
    from conversations import cases
    from conversations.locks import conversation_for_update

    for row in inbox_page(InboxFilters(view="unassigned"), user=user)[:TAKE_NEXT_TRIES]:
        with transaction.atomic():
            conversation = conversation_for_update(row.customer)
            case = (
                Case.objects.filter(pk=conversation.current_case_id, assignee__isnull=True)
                .exclude(status=Case.Status.RESOLVED)
                .first()
            )
            if case is None:
                continue  # taken (or resolved) meanwhile
            cases.assign_case(case, assignee=user, by=user)
        return conversation
    return None
