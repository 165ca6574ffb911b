"""Admin pages for Twilio accounts and our numbers (docs/twilio.md, "Several numbers and
accounts"). An account's page names where its token is, never the token."""

from django.contrib import admin

from .models import MessagingNumber, TwilioAccount


class MessagingNumberInline(admin.TabularInline):
    model = MessagingNumber
    extra = 0
    autocomplete_fields = ["store"]
    fields = [
        "phone_number",
        "messaging_service_sid",
        "store",
        "sms",
        "voice",
        "whatsapp",
        "is_default",
        "active",
    ]


@admin.register(TwilioAccount)
class TwilioAccountAdmin(admin.ModelAdmin):
    list_display = ["label", "account_sid", "auth_token_env", "auth_token_key", "active"]
    search_fields = ["label", "account_sid"]
    inlines = [MessagingNumberInline]


@admin.register(MessagingNumber)
class MessagingNumberAdmin(admin.ModelAdmin):
    list_display = [
        "phone_number",
        "messaging_service_sid",
        "store",
        "account",
        "sms",
        "voice",
        "whatsapp",
        "is_default",
        "active",
    ]
    list_filter = ["account", "store", "active", "is_default"]
    search_fields = ["phone_number", "messaging_service_sid", "store__name"]
    # the store picker: a search box over the stores, not a list of every one
    autocomplete_fields = ["store", "account"]
