"""Personas in the admin (managers); the figures live at /admin/insights/ (views.py)."""

from django.contrib import admin, messages
from django.db.models import Count

from .models import Persona
from .personas import refresh_members


@admin.register(Persona)
class PersonaAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "member_count", "refreshed_at"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["refreshed_at"]
    actions = ["refresh"]

    def has_module_permission(self, request):
        return request.user.has_perm("insights.view_insights")

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("insights.view_insights")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_total=Count("members"))

    @admin.display(description="customers", ordering="member_total")
    def member_count(self, persona):
        return persona.member_total

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        count = refresh_members(obj)
        messages.info(request, f"{count} customers match {obj.name} now.")

    @admin.action(description="Refresh who matches")
    def refresh(self, request, queryset):
        for persona in queryset:
            self.message_user(request, f"{persona.name}: {refresh_members(persona)} customers.")
