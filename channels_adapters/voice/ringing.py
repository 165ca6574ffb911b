"""Where a call goes: business hours (THROUGHLINE_BUSINESS_HOURS) and the agent to ring.

This app knows nothing of stores: the setting names a function taking the number that
was called and returning `{"open": bool, "description": str}`, or None when it has no
hours for that number (then we are open). The agent is the one handling the customer's
open case if they are available, else any available agent, the one least recently
routed a call first (`last_routed_at`).
"""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string

from conversations.models import AgentProfile, Case


@cache
def _hours_source(path: str):
    return import_string(path)


def business_hours(number: str) -> dict | None:
    path = settings.THROUGHLINE_BUSINESS_HOURS
    return _hours_source(path)(number) if path else None


def choose_agent(case: Case | None) -> AgentProfile | None:
    available = AgentProfile.objects.filter(
        available=True, user__is_active=True, user__is_staff=True
    ).exclude(phone="")
    if case is not None and case.assignee_id is not None:
        own = available.filter(user_id=case.assignee_id).first()
        if own is not None:
            return own
    agent = available.order_by(F("last_routed_at").asc(nulls_first=True), "pk").first()
    if agent is not None:
        # spread calls: the next call tries someone else first
        AgentProfile.objects.filter(pk=agent.pk).update(last_routed_at=timezone.now())
    return agent
