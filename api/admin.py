"""API keys in the admin: create one (its secret is shown once), deactivate it."""

from django.contrib import admin, messages

from .keys import KEY_PREFIX, create_api_key
from .models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "active", "created_at"]
    list_filter = ["active"]
    search_fields = ["name", "prefix"]
    actions = ["deactivate"]

    def get_fields(self, request, obj=None):
        return ["name", "active"] if obj is None else ["name", "prefix", "active", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["prefix", "created_at"]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        created, raw = create_api_key(name=obj.name)
        if not obj.active:
            ApiKey.objects.filter(pk=created.pk).update(active=False)
        obj.pk, obj.prefix, obj.key_hash = created.pk, created.prefix, created.key_hash
        obj._state.adding = False
        messages.warning(
            request,
            f"The key for '{obj.name}' is {raw} — copy it now: it is not stored and will "
            f"not be shown again (keys start with {KEY_PREFIX}).",
        )

    @admin.action(description="Deactivate the selected keys")
    def deactivate(self, request, queryset):
        count = queryset.update(active=False)
        self.message_user(request, f"Deactivated {count} key(s).")
