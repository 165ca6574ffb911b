"""Sites in the admin: where a shop finds its script tag and its identify secret."""

from django.contrib import admin
from django.utils.html import format_html

from base.admin_fields import LinesJsonAdmin

from .models import Site
from .origins import platform_base_url


@admin.register(Site)
class SiteAdmin(LinesJsonAdmin, admin.ModelAdmin):
    lines_fields = ("allowed_origins",)  # one origin per line, not JSON

    list_display = ["name", "public_key", "identify_hash_enabled", "created_at"]
    search_fields = ["name", "public_key"]
    readonly_fields = ["public_key", "script_tag", "created_at"]
    fields = [
        "name",
        "public_key",
        "script_tag",
        "allowed_origins",
        "default_greeting",
        "secret",
        "identify_hash_enabled",
        "created_at",
    ]

    @admin.display(description="Script tag")
    def script_tag(self, site: Site) -> str:
        if not site.pk:
            return "Save the site to get its script tag."
        tag = (
            f'<script src="{platform_base_url()}/widget.js" data-site="{site.public_key}" '
            "async></script>"
        )
        return format_html("<code>{}</code>", tag)
