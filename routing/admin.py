"""Routing's configuration in the admin: intent and hot rules, contextual actions, and the
scheduled call backs. Saving a rule drops this process's cached rules (rules.forget);
other processes read the change within ROUTING_RULES_CACHE_SECONDS."""

from __future__ import annotations

from django.contrib import admin

from base.admin_fields import LinesJsonAdmin

from . import rules
from .models import ContextualAction, HotRule, IntentRule, ScheduledCallBack


class RuleAdmin(LinesJsonAdmin, admin.ModelAdmin):
    lines_fields = ("phrases", "keywords")  # word lists, one per line (not JSON)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        rules.forget()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        rules.forget()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        rules.forget()


@admin.register(IntentRule)
class IntentRuleAdmin(RuleAdmin):
    list_display = ["name", "intent", "team", "skill", "position", "active"]
    list_editable = ["position", "active"]
    list_filter = ["active", "team"]
    search_fields = ["name", "intent"]


@admin.register(HotRule)
class HotRuleAdmin(RuleAdmin):
    list_display = ["name", "keywords", "pattern", "min_cart_value", "active"]
    list_editable = ["active"]
    list_filter = ["active"]


@admin.register(ContextualAction)
class ContextualActionAdmin(RuleAdmin):
    list_display = ["name", "presence", "action", "team", "skill", "cooldown", "active"]
    list_filter = ["active", "presence", "action"]


@admin.register(ScheduledCallBack)
class ScheduledCallBackAdmin(admin.ModelAdmin):
    list_display = ["pk", "customer", "slot_start", "status", "agent", "case"]
    list_filter = ["status"]
    date_hierarchy = "slot_start"
    raw_id_fields = ["customer", "case", "agent"]
    readonly_fields = ["created_at", "due_at"]
    ordering = ["-slot_start"]
