"""Engagement in the admin: rules to configure (with their steps), nudges to read.

Rules are created with their defaults when the list is first opened; a template that does
not compile in the sandbox (templating.py) is refused with the error. Nudges are decided
by the arbiter only, so their page is read-only.
"""

from django import forms
from django.contrib import admin
from django.utils import timezone

from . import templating
from .arbiter import SENDABLE
from .models import Nudge, RuleConfig, RuleStep, Watch
from .rules import ensure_configs, rules


class RuleStepForm(forms.ModelForm):
    class Meta:
        model = RuleStep
        fields = ["number", "delay_minutes", "template"]
        widgets = {"template": forms.Textarea(attrs={"rows": 3, "cols": 80})}

    def clean_template(self) -> str:
        template = self.cleaned_data["template"]
        try:
            templating.check(template)
        except templating.TemplateSyntaxError as exc:
            raise forms.ValidationError(f"This template does not compile: {exc}") from None
        return template


class RuleStepInline(admin.TabularInline):
    model = RuleStep
    form = RuleStepForm
    extra = 0


class RuleConfigForm(forms.ModelForm):
    class Meta:
        model = RuleConfig
        fields = ["enabled", "priority", "channels", "min_value", "params"]

    def clean_channels(self) -> str:
        channels = [c.strip() for c in self.cleaned_data["channels"].split(",") if c.strip()]
        unknown = [c for c in channels if c not in SENDABLE]
        if unknown or not channels:
            raise forms.ValidationError(f"Use one or more of: {', '.join(SENDABLE)}.")
        return ",".join(channels)


@admin.register(RuleConfig)
class RuleConfigAdmin(admin.ModelAdmin):
    form = RuleConfigForm
    list_display = ["slug", "enabled", "priority", "channels", "min_value", "topic"]
    list_editable = ["enabled", "priority"]
    readonly_fields = ["slug", "updated_at"]
    inlines = [RuleStepInline]

    @admin.display(description="topic")
    def topic(self, obj: RuleConfig) -> str:
        rule = rules().get(obj.slug)
        return rule.topic if rule else ""

    def changelist_view(self, request, extra_context=None):
        ensure_configs()
        return super().changelist_view(request, extra_context)

    def has_add_permission(self, request) -> bool:
        return False  # one row per rule in the code, made by ensure_configs

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)


@admin.register(Nudge)
class NudgeAdmin(admin.ModelAdmin):
    list_display = [
        "id", "customer", "rule", "step", "status", "channel", "reason", "proposed_at",
        "decided_at", "replied_at", "ordered_at",
    ]  # fmt: skip
    list_filter = ["status", "rule", "channel", "topic"]
    list_select_related = ["customer"]
    search_fields = ["customer__display_name", "dedupe_key"]
    date_hierarchy = "proposed_at"

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in Nudge._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Watch)
class WatchAdmin(admin.ModelAdmin):
    list_display = ["id", "rule", "subject", "customer", "step", "next_action_at", "closed_reason"]
    list_filter = ["rule", "closed_reason"]
    list_select_related = ["customer"]
    search_fields = ["subject"]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in Watch._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
