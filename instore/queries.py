"""Reads for the admin: scan statistics and the label sheets."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from .models import Placement

RECENT_DAYS = 7
LABELS_PER_SHEET = 12  # 3 x 4 on A4 and US Letter alike (labels.html)


def with_scan_stats(queryset: QuerySet, *, scans: str = "scans") -> QuerySet:
    """Annotate stores or placements with their scan statistics, in the same query.

    - `scan_total`: scans recorded (a visitor's repeats within minutes count once);
    - `scan_recent`: in the last RECENT_DAYS days;
    - `scan_visitors`: distinct visitors (browsers) who scanned;
    - `scan_texted`: scans whose "Text us" message arrived and joined a phone;
    - `scan_last`: when the last scan was.
    """
    since = timezone.now() - timedelta(days=RECENT_DAYS)
    return queryset.annotate(
        scan_total=Count(scans),
        scan_recent=Count(scans, filter=Q(**{f"{scans}__scanned_at__gte": since})),
        scan_visitors=Count(f"{scans}__visitor_id", distinct=True),
        scan_texted=Count(scans, filter=Q(**{f"{scans}__linked_at__isnull": False})),
        scan_last=Max(f"{scans}__scanned_at"),
    )


def label_sheets(*, store_ids=(), placement_ids=()) -> list[dict]:
    """The active placements of these stores (all of them) and these placements, as
    pages of LABELS_PER_SHEET labels; each store starts on a new page."""
    chosen = Placement.objects.filter(Q(store_id__in=store_ids) | Q(pk__in=placement_ids))
    placements = list(
        chosen.filter(active=True)
        .select_related("product", "store")
        .order_by("store__name", "store_id", "product__name", "label", "pk")
    )
    sheets: list[dict] = []
    for placement in placements:
        if (
            not sheets
            or sheets[-1]["store"].pk != placement.store_id
            or len(sheets[-1]["placements"]) == LABELS_PER_SHEET
        ):
            sheets.append({"store": placement.store, "placements": []})
        sheets[-1]["placements"].append(placement)
    return sheets
