"""Frequency caps: the shop's own (ENGAGEMENT_FREQUENCY_CAPS, every topic together) and the
law's per subject (a jurisdiction's `subject_cap`, messages on one topic), asked by the
arbiter before it sends anything proactive (docs/engagement.md, "Frequency caps").

One indexed query (`nudge_sent_idx`) reads the customer's sent nudges over the longest
window of all, and every cap is counted from that list.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from django.conf import settings

from conversations.models import Customer

from .jurisdictions import Regime
from .models import TOPICS, Nudge

CAP = "frequency cap"

_CAP = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*([hd])\s*$")
_TOPIC_LABELS = dict(TOPICS)


def caps() -> list[tuple[int, timedelta]]:
    """ENGAGEMENT_FREQUENCY_CAPS, e.g. "1/24h,3/7d": at most 1 per 24 hours, 3 per 7 days."""
    parsed = []
    for text in settings.ENGAGEMENT_FREQUENCY_CAPS:
        match = _CAP.match(text)
        if not match:
            raise ValueError(f"ENGAGEMENT_FREQUENCY_CAPS: {text!r} is not like 1/24h or 3/7d")
        count, amount, unit = int(match[1]), int(match[2]), match[3]
        parsed.append((count, timedelta(hours=amount) if unit == "h" else timedelta(days=amount)))
    return parsed


def reached(customer: Customer, now: datetime, *, topic: str, regime: Regime | None) -> str:
    """The first cap a new nudge on `topic` would break ("frequency cap: ..."), or ""."""
    limits = caps()
    subject = regime.subject_caps() if regime is not None else []
    windows = [window for _, window in limits] + [limit.window for limit, _ in subject]
    if not windows:
        return ""
    sent = list(
        Nudge.objects.filter(
            customer=customer, status=Nudge.Status.SENT, decided_at__gt=now - max(windows)
        ).values_list("decided_at", "topic")
    )
    for count, window in limits:
        # strictly within: a message a day may go exactly 24 hours after the last one
        if sum(at > now - window for at, _ in sent) >= count:
            return f"{CAP}: {count} per {_span(window)}"
    for limit, jurisdiction in subject:
        on_topic = sum(at > now - limit.window and t == topic for at, t in sent)
        if on_topic >= limit.count:
            about = _TOPIC_LABELS.get(topic, topic).lower()
            return f"{CAP}: {limit} on {about} ({jurisdiction.name})"
    return ""


def _span(window: timedelta) -> str:
    hours = int(window.total_seconds() // 3600)
    return f"{hours // 24} days" if hours % 24 == 0 and hours > 24 else f"{hours} h"
