"""Scans: recording one on the shopper's conversation, and joining it to her phone.

Verbs: `record_scan` (the landing page's scan call), `tick_consent_box` (the page's
"Also text me offers" box, ticked or unticked), `link_reference` (a text that carries the
scan's reference arrived; hooks.py calls it; with the consent marker it is the grant) and
`journal_held_scans` (an anonymous scanner became a customer). docs/instore.md tells the story.

What a scan writes: always its `Scan` row (the store's figures count it, and "Text us"
needs its reference). The journal event, which needs a customer and a conversation,
is written at once for a visitor who is already a customer; for an anonymous visitor it
waits, held by the `Scan` row, until the visitor does something worth keeping (a
message, an identify, the "Text us" text), when `journal_held_scans` writes it at the
scan's own time. So a crowd scanning a label costs one row each, not four.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from conversations import consent, journal, merges
from conversations.identities import link_identity
from conversations.models import Customer, Event, Identity
from conversations.visitors import become_customer, customer_of

from .codes import normalize_placement_code
from .models import Placement, Scan


def find_active_placement(code: str) -> Placement | None:
    """The active placement with this code, or None for unknown, inactive or malformed
    codes alike (the page answers all three the same way, so codes cannot be probed)."""
    code = normalize_placement_code(code)
    if code is None:
        return None
    return (
        Placement.objects.select_related("store", "product").filter(code=code, active=True).first()
    )


def scan_source_id(*, visitor_id: str, code: str, at: datetime) -> str:
    """One id per visitor, code and time bucket of INSTORE_SCAN_DEDUPE_SECONDS: the
    journal's unique `(channel, source_id)` makes repeats within a bucket one event.

    Hashed so the id has a fixed length and says nothing about the visitor.
    """
    bucket = int(at.timestamp()) // settings.INSTORE_SCAN_DEDUPE_SECONDS
    digest = hashlib.sha256(f"{visitor_id}\x1f{code}\x1f{bucket}".encode()).hexdigest()
    return f"scan:{digest[:48]}"


def scan_summary(placement: Placement) -> str:
    return f"Scanned: {placement.product.name} at {placement.store.name}"


@transaction.atomic(durable=True)
def record_scan(*, placement: Placement, visitor_id: str, at: datetime | None = None) -> Scan:
    """Record that this visitor scanned this placement; return the scan (an earlier one
    when this is a repeat within the dedupe window, and then nothing is written).

    Journalled on the visitor's conversation when they have one; held by the row
    otherwise (see the module's docstring)."""
    at = at or timezone.now()
    source_id = scan_source_id(visitor_id=visitor_id, code=placement.code, at=at)
    customer = customer_of(visitor_id)
    scan, created = Scan.objects.get_or_create(
        source_id=source_id,
        defaults={
            "placement": placement,
            "store_id": placement.store_id,
            "visitor_id": visitor_id,
            "customer": customer,
            "scanned_at": at,
        },
    )
    if created and customer is not None:
        _journal_scan(customer, scan, placement)
    return scan


def journal_held_scans(*, customer: Customer, visitor_id: str) -> None:
    """THROUGHLINE_VISITOR_HOOKS: the visitor id is `customer`'s now; its scans made while
    anonymous become theirs and are journalled, each at its own time. Idempotent: a
    scan's event has the scan's source id, unique in the journal."""
    scans = Scan.objects.filter(visitor_id=visitor_id)
    scans.exclude(customer=customer).update(customer=customer)
    held = scans.select_related("placement__product", "placement__store")
    for scan in held.order_by("scanned_at"):
        _journal_scan(customer, scan, scan.placement)


def key_scans() -> int:
    """Give every scan whose visitor is a customer's, but which carries no customer, that
    customer; return how many. Migration 0003 keys the scans it finds; this keys those the
    previous release recorded while it ran (`manage.py key_scans`, after the deploy).
    Idempotent."""
    holder = Identity.objects.filter(kind=Identity.Kind.VISITOR, value=OuterRef("visitor_id"))
    return (
        Scan.objects.filter(customer__isnull=True)
        .filter(Exists(holder))
        .update(customer_id=Subquery(holder.values("customer_id")[:1]))
    )


def move_to_survivor(*, survivor: Customer, merged: Customer) -> None:
    """THROUGHLINE_MERGE_HOOKS: the merged customer's visitor ids went to the survivor
    (identities follow merges); their scans go with them."""
    merge = merges.in_progress(survivor, merged)  # provenance: an unmerge moves them back
    merges.move_customer_rows(merge, Scan)


def follow_visitors_after_split(*, holder: Customer, split: Customer) -> None:
    """THROUGHLINE_SPLIT_HOOKS: the split moved back the scans its merge moved; scans made
    since by a visitor id that went back to `split` go back too, so a scan's customer is
    always whoever holds its visitor id."""
    visitor_ids = Identity.objects.filter(customer=split, kind=Identity.Kind.VISITOR)
    scans = Scan.objects.filter(visitor_id__in=visitor_ids.values("value"))
    scans.exclude(customer=split).update(customer=split)


def _journal_scan(customer: Customer, scan: Scan, placement: Placement) -> Event:
    product = placement.product
    return journal.record(
        customer=customer,
        channel=Event.Channel.INSTORE,
        kind="scan",
        direction=Event.Direction.IN,
        body=scan_summary(placement),
        data={
            "store": {"id": placement.store_id, "name": placement.store.name},
            "placement": {"id": placement.pk, "label": placement.label, "code": placement.code},
            "product": {"id": product.pk, "sku": product.sku, "name": product.name},
            "scan": scan.pk,
        },
        source_id=scan.source_id,
        occurred_at=scan.scanned_at,
    )


def tick_consent_box(*, reference: str, visitor_id: str, proof: consent.Proof | None) -> bool:
    """Keep (or, `proof` None: forget) what the page's consent box showed and to whom, on
    the visitor's own unclaimed scan. Not a grant yet: the number is unknown until the
    text comes. Return whether there was such a scan."""
    fields = {"consent_text": "", "consent_version": "", "consent_ticked_at": None,
              "consent_ip": None, "consent_user_agent": ""}  # fmt: skip
    if proof is not None:
        fields.update(
            consent_text=proof.text,
            consent_version=proof.version,
            consent_ticked_at=timezone.now(),
            consent_ip=proof.ip or None,
            consent_user_agent=proof.user_agent[:500],
        )
    return bool(
        Scan.objects.filter(reference=reference, visitor_id=visitor_id, linked_at=None).update(
            **fields
        )
    )


@transaction.atomic(durable=True)
def link_reference(
    *, reference: str, phone: str, says_yes: bool = False, at: datetime | None = None
) -> Customer | None:
    """A text from `phone` carried this scan reference: the phone's holder saw the page
    the scan was made on, so link the phone to the scan's visitor (which merges the two
    histories). Return who holds the conversation, or None when the reference is unknown,
    expired or already used.

    Single-use: the first text to claim a reference wins, so a reference seen over a
    shoulder later cannot join a second phone to the shopper's history.

    `says_yes` (the text carries the consent marker, `codes.consent_marked`) and a box
    ticked on the scan's page: the phone opts in to marketing texts, in this transaction,
    with the page's proof (its words and version, the browser's address and user agent)
    and `at`, when the text was sent. The marker alone, with no box ticked, grants nothing.
    """
    now = timezone.now()
    max_age = timedelta(seconds=settings.INSTORE_REFERENCE_MAX_AGE)
    claimed = Scan.objects.filter(
        reference=reference, linked_at=None, scanned_at__gte=now - max_age
    ).update(linked_at=now)
    if not claimed:
        return None  # unknown, expired, or claimed before (by this text's repeat or another)
    scan = Scan.objects.select_related("placement__product", "store").get(reference=reference)
    # the follow-up worth keeping: the scanner becomes a customer (their scans journalled)
    visitor = become_customer(scan.visitor_id)
    customer = link_identity(visitor, "phone", phone, verified=True)
    journal.record(
        customer=customer,
        channel=Event.Channel.INSTORE,
        kind="scan_linked",
        direction=Event.Direction.INTERNAL,
        body=f"Texted the reference of a scan at {scan.store.name}: the phone joined it",
        data={"scan": scan.pk, "store": scan.store_id, "placement": scan.placement_id},
    )
    if says_yes and scan.consent_ticked_at is not None:
        _grant_texts(customer, scan, phone, at or now)
    return customer


def _grant_texts(customer: Customer, scan: Scan, phone: str, at: datetime) -> None:
    consent.opt_in(
        customer.identities.get(kind="phone", value=phone),
        source="instore:text us",
        channel=Event.Channel.SMS,
        direction=Event.Direction.IN,
        body=(
            f'Ticked "Also text me offers" on the page of a scan at {scan.store.name} '
            f"({scan.consent_ticked_at:%Y-%m-%d %H:%M} UTC) and texted its reference"
        ),
        occurred_at=at,
        proof=consent.Proof(
            text=scan.consent_text,
            version=scan.consent_version,
            channel="sms",
            ip=scan.consent_ip,
            user_agent=scan.consent_user_agent,
        ),
    )
