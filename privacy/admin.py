"""Export and erasure in the admin, for managers holding the permissions
`privacy.export_customer` / `privacy.erase_customer` (docs/privacy.md)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpResponse
from django.template.response import TemplateResponse

from .erasure import erase_customer
from .export import export_json
from .models import ConsentRecord, CustomerRecord, Erasure


class ManagersOnly:
    """Seen only by staff holding one of the privacy permissions (superusers hold all)."""

    def _may(self, request) -> bool:
        user = request.user
        return (
            user.is_active
            and user.is_staff
            and (
                user.has_perm("privacy.export_customer") or user.has_perm("privacy.erase_customer")
            )
        )

    def has_module_permission(self, request):
        return self._may(request)

    def has_view_permission(self, request, obj=None):
        return self._may(request)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CustomerRecord)
class CustomerRecordAdmin(ManagersOnly, admin.ModelAdmin):
    list_display = ["__str__", "identity_list", "created_at"]
    search_fields = ["display_name", "identities__value"]
    actions = ["export", "erase"]
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).filter(merged_into=None).prefetch_related("identities")

    @admin.display(description="identities")
    def identity_list(self, customer):
        return ", ".join(str(i) for i in customer.identities.all())

    def has_export_permission(self, request):
        return request.user.has_perm("privacy.export_customer")

    def has_erase_permission(self, request):
        return request.user.has_perm("privacy.erase_customer")

    @admin.action(description="Export everything held (JSON)", permissions=["export"])
    def export(self, request, queryset):
        customers = list(queryset[:2])
        if len(customers) != 1:
            self.message_user(request, "Export one customer at a time.", messages.ERROR)
            return None
        response = HttpResponse(export_json(customers[0]), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="customer-{customers[0].pk}.json"'
        return response

    @admin.action(description="Erase personal data…", permissions=["erase"])
    def erase(self, request, queryset):
        if request.POST.get("confirm") != "yes":
            # Erasure cannot be undone: show what will happen and ask again.
            return TemplateResponse(
                request,
                "privacy/admin/confirm_erasure.html",
                {
                    **self.admin_site.each_context(request),
                    "opts": self.model._meta,
                    "customers": queryset,
                    "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
                    "title": "Erase personal data",
                },
            )
        for customer in queryset:
            report = erase_customer(customer, by=request.user)
            self.message_user(request, report.summary(), messages.SUCCESS)
        return None


@admin.register(Erasure)
class ErasureAdmin(ManagersOnly, admin.ModelAdmin):
    list_display = ["__str__", "customer_id", "erased_by", "erased_at"]
    list_select_related = ["erased_by"]
    readonly_fields = ["customer", "erased_by", "erased_at", "report"]


@admin.register(ConsentRecord)
class ConsentRecordAdmin(admin.ModelAdmin):
    """The consent ledger, read-only (append-only by design): search a number or an email
    to prove consent (docs/compliance.md; `manage.py consent_proof` prints the same)."""

    list_display = ["occurred_at", "action", "topic", "channel", "address", "source"]
    list_filter = ["action", "channel", "topic"]
    search_fields = ["=address", "=customer__id"]
    readonly_fields = [f.name for f in ConsentRecord._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
