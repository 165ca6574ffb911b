"""Store, Placement and Scan (docs/instore.md).

A `Placement` is one printed QR code: a product from `commerce` shown at a spot in a
store. Its code is the only thing on the label, and it names no shopper. A `Scan` is one
recorded scan: the statistics read these rows, and the "Text us" reference lives on it,
so the SMS that carries the reference can join the scan's visitor to the sender's phone.
"""

from __future__ import annotations

import re
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from conversations.identities import InvalidIdentity, normalize_phone

from .codes import new_placement_code, new_reference

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_HOUR = re.compile(r"^([01]\d|2[0-4]):[0-5]\d$")


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            f"{value!r} is not an IANA time zone, such as Europe/Paris."
        ) from None


def validate_phone(value: str) -> None:
    if not value:
        return
    try:
        if normalize_phone(value) != value:
            raise ValidationError("Write the number in E.164, such as +14155550100.")
    except InvalidIdentity as exc:
        raise ValidationError(str(exc)) from None


def validate_business_hours(value) -> None:
    """`{"mon": [["09:00", "18:00"]], "sun": []}`: weekdays to lists of opening intervals."""
    if not isinstance(value, dict):
        raise ValidationError(
            'Business hours are a JSON object like {"mon": [["09:00", "18:00"]]}.'
        )
    for day, intervals in value.items():
        if day not in WEEKDAYS:
            raise ValidationError(f"{day!r} is not one of {', '.join(WEEKDAYS)}.")
        if not isinstance(intervals, list):
            raise ValidationError(f"{day}: a list of [opens, closes] pairs.")
        for interval in intervals:
            if (
                not isinstance(interval, list)
                or len(interval) != 2
                or not all(isinstance(t, str) and _HOUR.match(t) for t in interval)
                or interval[0] >= interval[1]
            ):
                raise ValidationError(
                    f'{day}: {interval!r} is not an interval like ["09:00", "18:00"].'
                )


class Store(models.Model):
    name = models.CharField(max_length=200)
    address = models.TextField(blank=True)
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text="e.g. America/New_York",
    )
    # The store's Twilio number: the "Text us" and "Call" buttons dial it, and its SMS and
    # voice webhooks must point at Throughline (docs/twilio.md). Blank hides both buttons.
    phone = models.CharField(
        "SMS/voice number",
        max_length=32,
        blank=True,
        validators=[validate_phone],
        help_text="E.164, such as +14155550100",
    )
    business_hours = models.JSONField(
        default=dict,
        blank=True,
        validators=[validate_business_hours],
        help_text='e.g. {"mon": [["09:00", "18:00"]], "sat": [["10:00", "16:00"]], "sun": []}',
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name

    def hours_on(self, day: str) -> list[list[str]]:
        return self.business_hours.get(day, []) if isinstance(self.business_hours, dict) else []


class Placement(models.Model):
    """One QR label: this product, at this spot, in this store."""

    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="placements")
    product = models.ForeignKey(
        "commerce.Product", on_delete=models.PROTECT, related_name="placements"
    )
    label = models.CharField(max_length=120, blank=True, help_text='e.g. "aisle 4, end cap"')
    # Unguessable, so one label cannot be used to find the others; never reused.
    code = models.CharField(max_length=16, unique=True, default=new_placement_code, editable=False)
    # Off: the label's page answers "no longer available" and nothing is recorded.
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["store", "active"], name="placement_store_active_idx")]

    def __str__(self) -> str:
        where = f", {self.label}" if self.label else ""
        return f"{self.product.name} at {self.store.name}{where}"


class Scan(models.Model):
    """One recorded scan: repeats by one visitor within INSTORE_SCAN_DEDUPE_SECONDS are one.

    It keeps the visitor id (a scan is made by a browser, anonymous or not) and, once the
    visitor is a customer, that customer: set when the scan is recorded or journalled
    (scans.py), moved by merges and back by splits (merges.py), so it always agrees with
    whoever holds the visitor identity, and the figures and the "in store now" lookup
    join by the customer key (the key the schema can be distributed by, docs/scaling.md).
    """

    placement = models.ForeignKey(Placement, on_delete=models.PROTECT, related_name="scans")
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="scans")
    visitor_id = models.CharField(max_length=64)
    # None while the visitor is anonymous (and once erased); indexed with scanned_at below
    customer = models.ForeignKey(
        "conversations.Customer",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="scans",
        db_index=False,
    )
    # The journal event's source id: one per visitor, code and time bucket.
    source_id = models.CharField(max_length=128, unique=True)
    # What the "Text us" message carries; single-use (linked_at) and it expires.
    reference = models.CharField(max_length=16, unique=True, default=new_reference)
    scanned_at = models.DateTimeField(default=timezone.now)
    # When a text carrying the reference joined this visitor to the sender's phone.
    linked_at = models.DateTimeField(null=True, blank=True)
    # The page's "Also text me offers" box, ticked for this scan: the words it showed, their
    # version, when, and the browser's address and user agent. The text that carries the
    # reference and the marker is the grant; these are its proof (docs/instore.md,
    # "Consent to texts"). Blank unless ticked; unticking blanks them again.
    consent_text = models.TextField(blank=True, default="", db_default="")
    consent_version = models.CharField(max_length=64, blank=True, default="", db_default="")
    consent_ticked_at = models.DateTimeField(null=True, blank=True)
    consent_ip = models.GenericIPAddressField(null=True, blank=True)
    consent_user_agent = models.CharField(max_length=500, blank=True, default="", db_default="")

    class Meta:
        indexes = [
            # statistics per placement and per store, over a period
            models.Index(fields=["placement", "scanned_at"], name="scan_placement_idx"),
            models.Index(fields=["store", "scanned_at"], name="scan_store_idx"),
            # an anonymous visitor's scans, journalled when they become a customer
            models.Index(fields=["visitor_id", "-scanned_at"], name="scan_visitor_recent_idx"),
            # "in store now" for a customer, recent first; a merge's move of their scans
            models.Index(fields=["customer", "-scanned_at"], name="scan_customer_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"Scan #{self.pk} of {self.placement_id}"
