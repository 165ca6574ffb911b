"""Preferences per topic and channel, chosen by the customer on their page (docs/privacy.md).

Verbs: `set_preferences` (each change is a `consent` event in the timeline and a line of
the consent ledger with its proof, in the same transaction) and the reads `allows`, which
the engagement gate asks before every nudge, and `shown_choices`, what the page shows:
what is actually allowed. A marketing topic by text (ENGAGEMENT_CONSENT_TOPICS) is on only
with consent on record, and nothing is on by text for a number that said stop. STOP on a
number is the other, stronger level (conversations/consent.py): it stops everything on
that number whatever is chosen here.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from conversations import consent, journal, merges
from conversations.identities import live_customer
from conversations.models import Customer, Event

from . import ledger
from .models import CHANNELS, TOPICS, Preference


def choices_of(customer: Customer) -> dict[tuple[str, str], bool]:
    """Every (topic, channel) with whether the customer allows it (default: allowed)."""
    customer = live_customer(customer)
    chosen = {(p.topic, p.channel): p.allowed for p in Preference.objects.filter(customer=customer)}
    return {(t, c): chosen.get((t, c), True) for t in TOPICS for c in CHANNELS}


def text_status(customer: Customer) -> str:
    """ "opted out" when every number of the customer said stop (or is on the suppression
    list), "no number" when there is none, else ""."""
    phones = list(customer.identities.filter(kind="phone"))
    if not phones:
        return "no number"
    if all(consent.refusal("sms", phone) for phone in phones):
        return "opted out"
    return ""


def shown_choices(customer: Customer) -> dict[tuple[str, str], bool]:
    """What is actually allowed, for the page: a box is ticked only when a message of that
    topic on that channel could be sent."""
    customer = live_customer(customer)
    choices = choices_of(customer)
    texts_stopped = text_status(customer) == "opted out"
    for (topic, channel), allowed in choices.items():
        if channel != "sms" or not allowed:
            continue
        if texts_stopped:
            choices[(topic, channel)] = False
        elif topic in settings.ENGAGEMENT_CONSENT_TOPICS:
            granted = ledger.state(customer.pk, topic=topic, channel=channel) == "granted"
            choices[(topic, channel)] = granted
    return choices


def allows(customer: Customer, *, topic: str, channel: str) -> bool:
    """Whether the customer lets us send this topic on this channel (one indexed query)."""
    return not Preference.objects.filter(
        customer_id=live_customer(customer).pk, topic=topic, channel=channel, allowed=False
    ).exists()


def set_preferences(
    customer: Customer,
    choices: Mapping[tuple[str, str], bool],
    *,
    source: str,
    proof: consent.Proof | None = None,
) -> list[Event]:
    """Store the customer's choices; return one `consent` event per choice that changed.

    `source` says where the change came from ("preferences page", "admin"); `proof` what
    the page showed (the disclosure beside the text boxes), the client's address and user
    agent: each change is also a grant or a revocation in the consent ledger. A choice is
    a change when it differs from what the page showed (`shown_choices`): ticking offers
    by text with no consent on record is a grant. Unknown topics or channels raise
    ValueError (the page only offers known ones).
    """
    unknown = [key for key in choices if key[0] not in TOPICS or key[1] not in CHANNELS]
    if unknown:
        raise ValueError(f"Unknown topic or channel: {unknown[0]}")
    customer = live_customer(customer)
    now = timezone.now()
    events = []
    with transaction.atomic():
        stored, shown = choices_of(customer), shown_choices(customer)
        for (topic, channel), allowed in choices.items():
            allowed = bool(allowed)
            # ticking what the page showed unticked for want of consent is a grant
            grant = allowed and not shown[(topic, channel)] and stored[(topic, channel)]
            if stored[(topic, channel)] == allowed and not grant:
                continue
            Preference.objects.update_or_create(
                customer=customer,
                topic=topic,
                channel=channel,
                defaults={"allowed": allowed, "updated_at": now},
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
                        "allowed": allowed,
                        "source": source,
                    },
                )
            )
            ledger.record_grant(
                customer,
                topic=topic,
                channel=channel,
                source=source,
                proof=proof or consent.Proof(text=""),
                occurred_at=now,
                event=events[-1],
                revoked=not allowed,
            )
    return events


# The survivor takes each "off" of the merged customer's (inserted, or set on its own row);
# each row it inserts or updates is recorded, before and after, for an unmerge.
_MERGE_OFFS_SQL = f"""
WITH offs AS (
    SELECT topic, channel, updated_at FROM privacy_preference
    WHERE customer_id = %(merged)s AND NOT allowed
), before AS (
    SELECT p.id, jsonb_build_object('allowed', p.allowed, 'updated_at', p.updated_at) AS old
    FROM privacy_preference p JOIN offs USING (topic, channel)
    WHERE p.customer_id = %(survivor)s
), upserted AS (
    INSERT INTO privacy_preference AS kept (customer_id, topic, channel, allowed, updated_at)
    SELECT %(survivor)s, topic, channel, false, updated_at FROM offs
    ON CONFLICT (customer_id, topic, channel) DO UPDATE SET
        allowed = false, updated_at = EXCLUDED.updated_at
    RETURNING id, jsonb_build_object('customer_id', customer_id, 'allowed', allowed,
        'updated_at', updated_at) AS new
)
{merges.RECORD}
SELECT %(merge)s, 'privacy_preference', u.id,
    CASE WHEN b.id IS NULL THEN 'added' ELSE 'changed' END, '', %(survivor)s, NULL, NULL,
    b.old, u.new
FROM upserted u LEFT JOIN before b ON b.id = u.id
"""  # noqa: S608


def move_to_survivor(survivor: Customer, merged: Customer) -> None:
    """A merge hook (THROUGHLINE_MERGE_HOOKS): the survivor keeps every "off" either had,
    since the customer said no to it on one of their identities. The merged customer's
    rows go (kept whole in the merge's provenance, so an unmerge brings them back)."""
    merge = merges.in_progress(survivor, merged)
    with connection.cursor() as cursor:
        cursor.execute(
            _MERGE_OFFS_SQL, {"survivor": survivor.pk, "merged": merged.pk, "merge": merge.pk}
        )
    merges.remove_rows(merge, Preference, "customer_id", value=merged.pk)
