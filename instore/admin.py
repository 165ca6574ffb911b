"""Stores and placements in the admin: QR previews, scan statistics, label sheets.

Printing: select stores (or placements) and run "Print labels"; the sheet opens at a
stable URL, `/admin/instore/store/labels/?paper=a4|letter&store=1` (or `&placement=7`),
ready for the browser's print dialog (docs/instore.md).
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from base.inputs import ascii_int

from . import qr
from .forms import BusinessHoursField
from .models import Placement, Store
from .queries import RECENT_DAYS, label_sheets, with_scan_stats
from .views import price_text

PAPERS = {"a4": "A4", "letter": "US Letter"}


class ScanStats:
    """List columns for the annotations of queries.with_scan_stats."""

    @admin.display(description="scans", ordering="scan_total")
    def scans(self, obj):
        return obj.scan_total

    @admin.display(description=f"last {RECENT_DAYS} days", ordering="scan_recent")
    def scans_recent(self, obj):
        return obj.scan_recent

    @admin.display(description="visitors", ordering="scan_visitors")
    def visitors(self, obj):
        return obj.scan_visitors

    @admin.display(description="texted us", ordering="scan_texted")
    def texted(self, obj):
        return obj.scan_texted

    @admin.display(description="last scan", ordering="scan_last")
    def last_scan(self, obj):
        return obj.scan_last or "-"


class PlacementInline(admin.TabularInline):
    model = Placement
    extra = 0
    fields = ["product", "label", "active", "code", "links"]
    readonly_fields = ["code", "links"]
    raw_id_fields = ["product"]
    show_change_link = True

    @admin.display(description="QR / page")
    def links(self, placement):
        return _links(placement) if placement.pk else "-"


def _links(placement: Placement):
    return format_html(
        '<a href="{}">SVG</a> · <a href="{}">PNG</a> · '
        '<a href="{}" target="_blank" rel="noopener">page</a>',
        reverse("instore:qr-svg", args=[placement.code]),
        reverse("instore:qr-png", args=[placement.code]),
        reverse("instore:landing", args=[placement.code]),
    )


def _labels_url(paper: str, **ids) -> str:
    query = "&".join(f"{key}={pk}" for key, values in ids.items() for pk in values)
    return f"{reverse('admin:instore_store_labels')}?paper={paper}&{query}"


@admin.register(Store)
class StoreAdmin(ScanStats, admin.ModelAdmin):
    list_display = [
        "name",
        "phone",
        "time_zone",
        "active_placements",
        "scans",
        "scans_recent",
        "visitors",
        "texted",
        "last_scan",
    ]
    search_fields = ["name", "address"]
    readonly_fields = ["created_at"]
    inlines = [PlacementInline]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "business_hours":  # one line per weekday, not raw JSON
            return BusinessHoursField(label="Business hours", help_text="")
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    actions = ["print_labels_a4", "print_labels_letter"]

    def get_queryset(self, request):
        # a subquery, not a join: joining placements would multiply the scan counts
        active = (
            Placement.objects.filter(store=OuterRef("pk"), active=True)
            .order_by()
            .values("store")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return with_scan_stats(super().get_queryset(request)).annotate(
            active_placement_count=Coalesce(Subquery(active), 0)
        )

    @admin.display(description="active placements", ordering="active_placement_count")
    def active_placements(self, store):
        return store.active_placement_count

    def save_formset(self, request, form, formset, change):
        for placement in formset.save(commit=False):
            if placement.pk is None:
                placement.created_by = request.user
            placement.save()
        for placement in formset.deleted_objects:
            placement.delete()
        formset.save_m2m()

    @admin.action(description="Print labels of the selected stores (A4)")
    def print_labels_a4(self, request, queryset):
        return redirect(_labels_url("a4", store=queryset.values_list("pk", flat=True)))

    @admin.action(description="Print labels of the selected stores (US Letter)")
    def print_labels_letter(self, request, queryset):
        return redirect(_labels_url("letter", store=queryset.values_list("pk", flat=True)))

    def get_urls(self):
        labels = path(
            "labels/", self.admin_site.admin_view(self.labels_view), name="instore_store_labels"
        )
        return [labels, *super().get_urls()]

    def labels_view(self, request: HttpRequest):
        """The print-ready sheet: every active placement of the stores asked for."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        paper = request.GET.get("paper") if request.GET.get("paper") in PAPERS else "a4"
        chosen = {
            key: [n for v in request.GET.getlist(key) if (n := ascii_int(v)) is not None]
            for key in ("store", "placement")
        }
        sheets = label_sheets(store_ids=chosen["store"], placement_ids=chosen["placement"])
        for sheet in sheets:
            sheet["labels"] = [_label(p) for p in sheet.pop("placements")]
        other = "letter" if paper == "a4" else "a4"
        return TemplateResponse(
            request,
            "admin/instore/labels.html",
            {
                "paper": paper,
                "paper_name": PAPERS[paper],
                "other_paper_name": PAPERS[other],
                "other_paper_url": _labels_url(other, **chosen),
                "sheets": sheets,
            },
        )


def _label(placement: Placement) -> dict:
    url = qr.placement_url(placement.code)
    return {
        "placement": placement,
        "product": placement.product.name,
        "price": price_text(placement.product.price, placement.product.currency),
        "label": placement.label,
        "url": url.split("://", 1)[-1],
        # qrcode's own SVG: module paths only, nothing user-supplied
        "svg": mark_safe(qr.qr_svg(url)),  # noqa: S308
    }


@admin.register(Placement)
class PlacementAdmin(ScanStats, admin.ModelAdmin):
    list_display = [
        "product",
        "store",
        "label",
        "code",
        "active",
        "scans",
        "scans_recent",
        "visitors",
        "texted",
        "last_scan",
    ]
    list_filter = ["active", "store"]
    list_select_related = ["product", "store"]
    search_fields = ["code", "label", "product__name", "product__sku", "store__name"]
    raw_id_fields = ["product"]
    readonly_fields = ["code", "qr_preview", "created_by", "created_at"]
    actions = ["print_labels_a4", "print_labels_letter", "deactivate"]

    def get_queryset(self, request):
        return with_scan_stats(super().get_queryset(request))

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description="QR code")
    def qr_preview(self, placement):
        if not placement.pk:
            return "Save to get the code."
        return format_html(
            '<img src="{}" alt="QR code" width="160" height="160"><br>{}<br><code>{}</code>',
            reverse("instore:qr-svg", args=[placement.code]),
            _links(placement),
            qr.placement_url(placement.code),
        )

    @admin.action(description="Print labels of the selected placements (A4)")
    def print_labels_a4(self, request, queryset):
        return redirect(_labels_url("a4", placement=queryset.values_list("pk", flat=True)))

    @admin.action(description="Print labels of the selected placements (US Letter)")
    def print_labels_letter(self, request, queryset):
        return redirect(_labels_url("letter", placement=queryset.values_list("pk", flat=True)))

    @admin.action(description="Deactivate: the codes stop working, nothing is deleted")
    def deactivate(self, request, queryset):
        updated = queryset.update(active=False)
        self.message_user(request, f"{updated} placement(s) deactivated.")
