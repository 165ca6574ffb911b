"""The inbox: which conversations wait on the shop, hot first, then longest waiting.

Reads the summary on the conversation row (and its current case), never the events, and
walks `conversation_inbox_idx` (status, -priority, last_inbound_at) with a LIMIT: a page
costs the same queries and about the same time with 100 or 10,000 open cases.
A snoozed case comes back by itself when its time is up or when the customer writes after
it was snoozed (the filter compares `snoozed_until` with now and `last_inbound_at` with
`snoozed_at`), so waking it needs no sweep and costs inbound events nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from base.inputs import ascii_int
from conversations.models import Case, Conversation, Event

STATUSES = ("open", "pending", "snoozed", "all")
VIEWS = ("all", "mine", "unassigned")
# What a customer says to us: texts and chat messages, and calls ("Incoming call"; a
# voicemail is its call's annotation). The "Last" column shows the newest of these.
CUSTOMER_WORDS = ("message", "call")
# What a person of the shop says to the customer: an agent's text, chat or call. Automatic
# messages (after-hours acknowledgement, nudges, offers) carry no author and do not stop
# the waiting clock.
PERSON_ANSWERS = ("message", "call")


@dataclass(frozen=True)
class InboxFilters:
    """What the agent picked; every field is optional and comes from the query string."""

    view: str = "all"  # all | mine | unassigned
    status: str = "open"  # open (incl. pending and snoozed cases whose time is up) | ...
    channel: str = ""  # the channel the customer last used
    team: str = ""  # a team's slug
    assignee: int | None = None  # a user id
    hot: bool = False
    store: int | None = None  # conversations with a QR scan in this store
    intent: str = ""
    page: int = 1

    @classmethod
    def from_query(cls, query) -> InboxFilters:
        def number(name):
            value = query.get(name, "")
            return ascii_int(value)

        view = query.get("view", "all")
        status = query.get("status", "open")
        return cls(
            view=view if view in VIEWS else "all",
            status=status if status in STATUSES else "open",
            channel=query.get("channel", "")[:16],
            team=query.get("team", "")[:64],
            assignee=number("assignee"),
            hot=query.get("hot") in ("1", "true", "on"),
            store=number("store"),
            intent=query.get("intent", "")[:64],
            page=max(1, number("page") or 1),
        )

    def as_query(self, **changes) -> str:
        """This filter set as a query string, with some fields changed (for links)."""
        values = {
            "view": self.view,
            "status": self.status,
            "channel": self.channel,
            "team": self.team,
            "assignee": self.assignee or "",
            "hot": "1" if self.hot else "",
            "store": self.store or "",
            "intent": self.intent,
            "page": self.page,
            **changes,
        }
        defaults = {"view": "all", "status": "open", "page": 1}
        return urlencode(
            {k: v for k, v in values.items() if v not in ("", None) and defaults.get(k) != v}
        )


def inbox_queryset(filters: InboxFilters, *, user, now: datetime | None = None) -> QuerySet:
    """The inbox's conversations for this agent and these filters, in inbox order."""
    now = now or timezone.now()
    rows = Conversation.objects.filter(status=Conversation.Status.OPEN)
    case = "current_case__"
    # a snoozed case is awake once its time is up or the customer wrote after the snooze
    awake = Q(**{f"{case}snoozed_until__lte": now}) | Q(last_inbound_at__gt=F(f"{case}snoozed_at"))
    snoozed = Q(**{f"{case}status": Case.Status.SNOOZED})
    if filters.status == "open":
        rows = rows.filter(
            Q(**{f"{case}status__in": [Case.Status.OPEN, Case.Status.PENDING]}) | (snoozed & awake)
        )
    elif filters.status == "snoozed":
        rows = rows.filter(
            snoozed,
            Q(**{f"{case}snoozed_until__gt": now}),
            Q(**{f"{case}snoozed_at__isnull": True})
            | Q(last_inbound_at__lte=F(f"{case}snoozed_at")),
        )
    elif filters.status == "pending":
        rows = rows.filter(**{f"{case}status": Case.Status.PENDING})
    if filters.view == "mine":
        rows = rows.filter(**{f"{case}assignee": user})
    elif filters.view == "unassigned":
        rows = rows.filter(**{f"{case}assignee__isnull": True})
    if filters.assignee:
        rows = rows.filter(**{f"{case}assignee_id": filters.assignee})
    if filters.channel:
        rows = rows.filter(last_channel=filters.channel)
    if filters.team:
        rows = rows.filter(**{f"{case}team__slug": filters.team})
    if filters.intent:
        rows = rows.filter(**{f"{case}intent": filters.intent})
    if filters.hot:
        rows = rows.filter(priority__gte=Case.Priority.HOT)
    if filters.store:
        scans = Event.objects.filter(
            conversation=OuterRef("pk"), kind="scan", data__store__id=filters.store
        )
        rows = rows.filter(Exists(scans))
    # What the customer last said, not the newest line: that may be an intent line, a
    # merge, a private note or our own reply. Walks the conversation's events backwards
    # on (conversation, seq) from the newest; a page still costs one query.
    last_words = Event.objects.filter(
        conversation=OuterRef("pk"), direction=Event.Direction.IN, kind__in=CUSTOMER_WORDS
    ).order_by("-seq")
    # The honest waiting clock: when a person last answered (the same backward walk).
    answers = Event.objects.filter(
        conversation=OuterRef("pk"),
        direction=Event.Direction.OUT,
        kind__in=PERSON_ANSWERS,
        author__isnull=False,
    ).order_by("-seq")
    return (
        rows.select_related("customer", "current_case__team", "current_case__assignee")
        .annotate(
            last_body=Subquery(last_words.values("body")[:1]),
            last_answer_at=Subquery(answers.values("occurred_at")[:1]),
        )
        .order_by("-priority", "last_inbound_at", "pk")
    )


def inbox_page(filters: InboxFilters, *, user, now: datetime | None = None) -> list[Conversation]:
    """One page of the inbox (INBOX_PAGE_SIZE rows, plus one to tell whether more exist).

    The first page starts with the conversations whose call back is due (the longest due
    first), above the hot ones: the customer was promised a call at that time.
    """
    from console.workspace import pinned_call_backs

    size = settings.INBOX_PAGE_SIZE
    start = (filters.page - 1) * size
    rows = inbox_queryset(filters, user=user, now=now)
    page = list(rows[start : start + size + 1])
    if filters.page == 1:
        pinned = pinned_call_backs(rows)
        pinned_ids = {row.pk for row in pinned}
        page = pinned + [row for row in page if row.pk not in pinned_ids]
    return page


def waiting_since(row: Conversation) -> datetime | None:
    """Since when the customer waits for a person: their last words after the last
    person's answer (an automatic reply does not count), else None (answered)."""
    inbound, answered = row.last_inbound_at, getattr(row, "last_answer_at", None)
    if inbound and (answered is None or inbound > answered):
        return inbound
    return None
