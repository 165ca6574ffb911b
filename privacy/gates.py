"""The engagement arbiter's gate for the customer's preferences (setting ENGAGEMENT_GATES)."""

from __future__ import annotations

from datetime import datetime

from conversations.models import Customer

from .preferences import allows

REASON = "preference"  # what insights groups suppressions by (the part before the colon)


def gate(customer: Customer, *, topic: str, channel: str, now: datetime) -> str | None:
    """Why not, when the customer turned this topic off on this channel; else None."""
    if allows(customer, topic=topic, channel=channel):
        return None
    return f"{REASON}: {topic.replace('_', ' ')} off by {channel}"
