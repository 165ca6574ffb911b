"""Preferences per topic and channel, chosen by the customer on their page (docs/privacy.md).

Verbs: `set_preferences` (each change is a `consent` event in the timeline, in the same
transaction) and the read `allows`, which the engagement gate asks before every nudge.
STOP on a number is the other, stronger level (conversations/consent.py): it stops
everything on that number whatever is chosen here.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction
from django.utils import timezone

from conversations import journal
from conversations.identities import live_customer
from conversations.models import Customer, Event

from .models import CHANNELS, TOPICS, Preference


def choices_of(customer: Customer) -> dict[tuple[str, str], bool]:
    """Every (topic, channel) with whether the customer allows it (default: allowed)."""
    customer = live_customer(customer)
    chosen = {(p.topic, p.channel): p.allowed for p in Preference.objects.filter(customer=customer)}
    return {(t, c): chosen.get((t, c), True) for t in TOPICS for c in CHANNELS}


def allows(customer: Customer, *, topic: str, channel: str) -> bool:
    """Whether the customer lets us send this topic on this channel (one indexed query)."""
    return not Preference.objects.filter(
        customer_id=live_customer(customer).pk, topic=topic, channel=channel, allowed=False
    ).exists()


def set_preferences(
    customer: Customer, choices: Mapping[tuple[str, str], bool], *, source: str
) -> list[Event]:
    """Store the customer's choices; return one `consent` event per choice that changed.

    `source` says where the change came from ("preferences page", "admin"). Unknown
    topics or channels raise ValueError (the page only offers known ones).
    """
    unknown = [key for key in choices if key[0] not in TOPICS or key[1] not in CHANNELS]
    if unknown:
        raise ValueError(f"Unknown topic or channel: {unknown[0]}")
    customer = live_customer(customer)
    now = timezone.now()
    events = []
    with transaction.atomic():
        current = choices_of(customer)
        for (topic, channel), allowed in choices.items():
            if current[(topic, channel)] == bool(allowed):
                continue
            Preference.objects.update_or_create(
                customer=customer,
                topic=topic,
                channel=channel,
                defaults={"allowed": bool(allowed), "updated_at": now},
            )
            events.append(
                journal.record(
                    customer=customer,
                    channel=Event.Channel.SYSTEM,
                    direction=Event.Direction.INTERNAL,
                    kind="consent",
                    body=f"{TOPICS[topic]} by {CHANNELS[channel].lower()}: "
                    f"{'on' if allowed else 'off'} ({source})",
                    data={
                        "action": "preference",
                        "topic": topic,
                        "channel": channel,
                        "allowed": bool(allowed),
                        "source": source,
                    },
                )
            )
    return events


def move_to_survivor(survivor: Customer, merged: Customer) -> None:
    """A merge hook (THROUGHLINE_MERGE_HOOKS): the survivor keeps every "off" either had,
    since the customer said no to it on one of their identities."""
    for preference in Preference.objects.filter(customer=merged):
        if preference.allowed:
            preference.delete()
            continue
        Preference.objects.update_or_create(
            customer=survivor,
            topic=preference.topic,
            channel=preference.channel,
            defaults={"allowed": False, "updated_at": preference.updated_at},
        )
        preference.delete()
