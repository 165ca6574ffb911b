"""Scans: recording one on the shopper's conversation, and joining it to her phone.

Verbs: `record_scan` (the landing page's scan call) and `link_reference` (a text that
carries the scan's reference arrived; hooks.py calls it). docs/instore.md tells the story.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from conversations import journal
from conversations.identities import link_identity, resolve_customer
from conversations.models import Customer, Event, Identity

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
    when this is a repeat within the dedupe window, and then nothing is written)."""
    at = at or timezone.now()
    source_id = scan_source_id(visitor_id=visitor_id, code=placement.code, at=at)
    scan, created = Scan.objects.get_or_create(
        source_id=source_id,
        defaults={
            "placement": placement,
            "store_id": placement.store_id,
            "visitor_id": visitor_id,
            "scanned_at": at,
        },
    )
    if not created:
        return scan
    product = placement.product
    journal.record(
        customer=resolve_customer(Identity.Kind.VISITOR, visitor_id),
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
        source_id=source_id,
        occurred_at=at,
    )
    return scan


@transaction.atomic(durable=True)
def link_reference(*, reference: str, phone: str) -> Customer | None:
    """A text from `phone` carried this scan reference: the phone's holder saw the page
    the scan was made on, so link the phone to the scan's visitor (which merges the two
    histories). Return who holds the conversation, or None when the reference is unknown,
    expired or already used.

    Single-use: the first text to claim a reference wins, so a reference seen over a
    shoulder later cannot join a second phone to the shopper's history.
    """
    now = timezone.now()
    max_age = timedelta(seconds=settings.INSTORE_REFERENCE_MAX_AGE)
    claimed = Scan.objects.filter(
        reference=reference, linked_at=None, scanned_at__gte=now - max_age
    ).update(linked_at=now)
    if not claimed:
        return None  # unknown, expired, or claimed before (by this text's repeat or another)
    scan = Scan.objects.select_related("placement__product", "store").get(reference=reference)
    visitor = resolve_customer(Identity.Kind.VISITOR, scan.visitor_id)
    customer = link_identity(visitor, Identity.Kind.PHONE, phone, verified=True)
    journal.record(
        customer=customer,
        channel=Event.Channel.INSTORE,
        kind="scan_linked",
        direction=Event.Direction.INTERNAL,
        body=f"Texted the reference of a scan at {scan.store.name}: the phone joined it",
        data={"scan": scan.pk, "store": scan.store_id, "placement": scan.placement_id},
    )
    return customer
