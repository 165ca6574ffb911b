"""Possible duplicates: customers that look like one person but were not merged, because
nothing proved it (docs/subsystems/identities.md, "Possible duplicates").

Found two ways, neither on the request path:
- `on_event` (a reaction): a customer writes an email address or a phone number that is
  another customer's identity ("same email in another case", "phone written differently");
- `sweep` (Celery beat): live customers with the same name and postcode, and identities
  another customer's profile claims without proof ("unverified claim").

Agents confirm a pair (`confirm`: the two are merged) or dismiss it (`dismiss`); a
dismissed pair stays dismissed whatever evidence turns up later.
"""

from __future__ import annotations

import contextlib
import json
import re

import phonenumbers
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from conversations.identities import (
    InvalidIdentity,
    live_customer,
    merge_customers,
    normalize_email,
)
from conversations.models import Customer, Event, Identity, PossibleDuplicate

EMAIL_IN_CASE = "same email in another case"
PHONE_WRITTEN_DIFFERENTLY = "phone written differently"
NAME_AND_POSTCODE = "same name and postcode"
UNVERIFIED_CLAIM = "unverified claim"

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
# The profile keys a shop puts a postcode under (traits are the shop's own attributes).
_POSTCODE = "coalesce(traits->>'postcode', traits->>'postal_code', traits->>'zip')"
_MAX_CANDIDATES = 10  # addresses read from one message: a pasted list is not a claim


def note(first_id: int, second_id: int, *, signal: str, detail: dict) -> bool:
    """Put a pair in the queue with this evidence (added once); return whether it is open.

    One statement: a new pair is inserted, an open one gains the evidence, a confirmed or
    dismissed one is left alone.
    """
    if first_id == second_id:
        return False
    first_id, second_id = sorted([first_id, second_id])
    evidence = [{"signal": signal, **detail}]
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO conversations_possibleduplicate AS d
                (first_id, second_id, evidence, status, found_at, decided_by)
            VALUES (%(first)s, %(second)s, %(evidence)s::jsonb, 'open', %(now)s, '')
            ON CONFLICT (first_id, second_id) DO UPDATE SET
                evidence = d.evidence || EXCLUDED.evidence
            WHERE d.status = 'open' AND NOT d.evidence @> EXCLUDED.evidence
            RETURNING status""",
            {
                "first": first_id,
                "second": second_id,
                "evidence": json.dumps(evidence),
                "now": timezone.now(),
            },
        )
        return cursor.fetchone() is not None


# ---------------------------------------------------------------------------- finding


def on_event(event: Event) -> None:
    """A reaction: an inbound message naming an address another customer holds."""
    if event.direction != Event.Direction.IN or event.kind != "message" or not event.body:
        return
    writer = event.conversation.customer_id
    for kind, value, written in _addresses(event.body):
        owners = Identity.objects.filter(kind=kind, value=value)
        owner_id = owners.values_list("customer_id", flat=True).first()
        if owner_id is None:
            continue
        owner_id = live_customer(Customer(pk=owner_id)).pk
        if owner_id == writer:
            continue
        signal = EMAIL_IN_CASE if kind == Identity.Kind.EMAIL else PHONE_WRITTEN_DIFFERENTLY
        note(
            writer,
            owner_id,
            signal=signal,
            detail={"event": event.pk, "identity_kind": kind, "written": written != value},
        )


def _addresses(body: str) -> list[tuple[str, str, str]]:
    """(kind, normalised value, as written) of the emails and phone numbers in a text."""
    found: list[tuple[str, str, str]] = []
    for match in _EMAIL.findall(body)[:_MAX_CANDIDATES]:
        with contextlib.suppress(InvalidIdentity):
            found.append((Identity.Kind.EMAIL, normalize_email(match), match))
    matcher = phonenumbers.PhoneNumberMatcher(body, settings.PHONE_DEFAULT_REGION)
    for n, match in enumerate(matcher):
        if n >= _MAX_CANDIDATES:
            break
        number = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
        found.append((Identity.Kind.PHONE, number, match.raw_string))
    return found


def sweep() -> int:
    """Queue live customers with the same name and postcode, and identities another
    customer's profile claims; return how many pairs are newly open or gained evidence."""
    noted = 0
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT array_agg(id ORDER BY id), min(display_name), min({_POSTCODE})
            FROM conversations_customer
            WHERE merged_into_id IS NULL AND btrim(display_name) <> ''
                AND nullif(btrim({_POSTCODE}), '') IS NOT NULL
            GROUP BY lower(btrim(display_name)), upper(replace({_POSTCODE}, ' ', ''))
            HAVING count(*) > 1"""  # noqa: S608 - no input in the text
        )
        groups = cursor.fetchall()
        cursor.execute(
            """SELECT i.customer_id, c.id, i.kind, i.id FROM conversations_identity i
            JOIN conversations_customer c ON c.id <> i.customer_id
                AND c.merged_into_id IS NULL
                AND lower(btrim(c.traits->>i.kind)) = i.value
            WHERE i.kind IN ('email', 'phone')"""
        )
        claims = cursor.fetchall()
    for ids, _name, _postcode in groups:
        for other in ids[1:]:
            noted += note(ids[0], other, signal=NAME_AND_POSTCODE, detail={})
    for holder, claimant, kind, identity in claims:
        holder = live_customer(Customer(pk=holder)).pk
        noted += note(
            holder,
            claimant,
            signal=UNVERIFIED_CLAIM,
            detail={"identity_kind": kind, "identity": identity, "claimed_by": claimant},
        )
    return noted


# ---------------------------------------------------------------------------- deciding


def confirm(duplicate: PossibleDuplicate, *, by: str) -> Customer:
    """The agent says they are one person: merge them; return the survivor."""
    with transaction.atomic():
        duplicate = PossibleDuplicate.objects.select_for_update(no_key=True).get(pk=duplicate.pk)
        survivor = merge_customers(
            duplicate.first, duplicate.second, reason=f"possible duplicate confirmed by {by}"
        )
        if duplicate.status == PossibleDuplicate.Status.OPEN:
            PossibleDuplicate.objects.filter(pk=duplicate.pk).update(
                status=PossibleDuplicate.Status.CONFIRMED,
                decided_at=timezone.now(),
                decided_by=by[:200],
            )
    return survivor


def dismiss(duplicate: PossibleDuplicate, *, by: str) -> None:
    """The agent says they are two people: the pair leaves the queue for good."""
    PossibleDuplicate.objects.filter(pk=duplicate.pk, status=PossibleDuplicate.Status.OPEN).update(
        status=PossibleDuplicate.Status.DISMISSED, decided_at=timezone.now(), decided_by=by[:200]
    )


def open_pairs():
    """The queue, oldest first, with both customers."""
    return (
        PossibleDuplicate.objects.filter(
            status=PossibleDuplicate.Status.OPEN,
            first__merged_into=None,  # a pair merged since, some other way, is done
            second__merged_into=None,
        )
        .select_related("first", "second")
        .order_by("found_at", "pk")
    )
