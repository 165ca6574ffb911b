"""The agent console, first version: customers, conversations and the timeline.

The conversation page is the timeline itself, read by keyset pages of
TIMELINE_PAGE_SIZE events, so a 10,000-event history opens as fast as a short one, and
kept live by `/ws/agent/`.
"""

import contextlib

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import Exists, OuterRef
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.module_loading import import_string
from django.views.decorators.http import require_POST

from .access import access_conversation
from .context import build_context
from .identities import InvalidIdentity, normalize_phone
from .models import AgentProfile, Case, Conversation, Customer, Event, Identity, Outbox
from .outbox import Refused
from .queries import timeline_page


def _matching_identity(queryset, term: str, customer_path: str):
    """Let agents find a customer by a phone typed any way, or by any identity value."""
    values = {term.strip().lower(), term.strip()}
    with contextlib.suppress(InvalidIdentity):
        values.add(normalize_phone(term))
    identities = Identity.objects.filter(customer=OuterRef(customer_path), value__in=values)
    return queryset.filter(Exists(identities))


class AgentReadable:
    """Every active staff member is an agent and may read the console (as access_conversation
    says); changing things still needs Django's model permissions."""

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff


class IdentityInline(admin.TabularInline):
    model = Identity
    extra = 0
    fields = ["kind", "value", "verified_at", "opted_out_at", "consent_source"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False  # identities are linked through link_identity, which merges when needed


@admin.register(Customer)
class CustomerAdmin(AgentReadable, admin.ModelAdmin):
    list_display = ["__str__", "identity_list", "created_at", "merged_into"]
    search_fields = ["display_name"]
    readonly_fields = ["merged_into", "created_at"]
    inlines = [IdentityInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("identities")

    def get_search_results(self, request, queryset, search_term):
        results, duplicates = super().get_search_results(request, queryset, search_term)
        if search_term:
            results = results | _matching_identity(queryset, search_term, "pk")
        return results, duplicates

    @admin.display(description="identities")
    def identity_list(self, customer):
        return ", ".join(str(i) for i in customer.identities.all())


@admin.register(Conversation)
class ConversationAdmin(AgentReadable, admin.ModelAdmin):
    list_display = [
        "customer",
        "status",
        "priority",
        "last_channel",
        "last_inbound_at",
        "unread_count",
    ]
    list_filter = ["status", "last_channel"]
    list_select_related = ["customer"]
    search_fields = ["customer__display_name"]
    ordering = ["-priority", "last_inbound_at"]
    show_full_result_count = False

    def get_search_results(self, request, queryset, search_term):
        results, duplicates = super().get_search_results(request, queryset, search_term)
        if search_term:
            results = results | _matching_identity(queryset, search_term, "customer_id")
            results = results | _matching_transcript(queryset, search_term)
        return results, duplicates

    def get_urls(self):
        call_back = self.admin_site.admin_view(require_POST(self.call_back_view))
        return [
            path("<path:object_id>/call-back/", call_back, name="conversations_call_back"),
            *super().get_urls(),
        ]

    def call_back_view(self, request, object_id):
        """The timeline's "Call back" button: ring the agent, then the customer."""
        conversation = access_conversation(request.user, object_id)
        try:
            import_string(settings.THROUGHLINE_CALL_BACK)(
                customer=conversation.customer, agent=request.user
            )
        except Refused as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "Calling you now; the customer is dialled when you answer.")
        return redirect(reverse("admin:conversations_conversation_change", args=[conversation.pk]))

    def has_add_permission(self, request):
        return False  # conversations are born with their customer

    def has_delete_permission(self, request, obj=None):
        return False  # the journal is append-only

    def change_view(self, request, object_id, form_url="", extra_context=None):
        conversation = access_conversation(request.user, object_id)
        if conversation.status == Conversation.Status.MERGED:
            survivor = conversation.customer.merged_into.conversation
            return redirect(reverse("admin:conversations_conversation_change", args=[survivor.pk]))
        before = request.GET.get("before")
        before_seq = int(before) if before and before.isdigit() else None
        events = timeline_page(
            conversation, before_seq=before_seq, size=settings.TIMELINE_PAGE_SIZE
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": str(conversation.customer),
            "conversation": conversation,
            "events": events,
            "older_seq": events[0].seq if events and events[0].seq > 1 else None,
            "is_latest": before_seq is None,
            "context": build_context(conversation.customer),
            "websocket_url": _websocket_url(request),
            "can_call_back": bool(getattr(settings, "THROUGHLINE_CALL_BACK", "")),
        }
        return TemplateResponse(request, "admin/conversations/conversation/timeline.html", context)


def _matching_transcript(queryset, term: str):
    """Let agents find a conversation by words said in a call (voicemail transcripts)."""
    calls = Event.objects.filter(
        conversation=OuterRef("pk"), kind="call", data__transcript__icontains=term.strip()
    )
    return queryset.filter(Exists(calls))


def _websocket_url(request) -> str:
    base = settings.WEBSOCKET_BASE_URL
    if not base:
        scheme = "wss" if request.is_secure() else "ws"
        base = f"{scheme}://{request.get_host()}"
    return f"{base}/ws/agent/"


@admin.register(Case)
class CaseAdmin(AgentReadable, admin.ModelAdmin):
    list_display = [
        "__str__",
        "conversation",
        "status",
        "priority",
        "intent",
        "assignee",
        "opened_at",
    ]
    list_filter = ["status", "priority"]
    list_select_related = ["conversation__customer", "assignee"]
    readonly_fields = [
        "conversation",
        "opened_at",
        "first_response_at",
        "resolved_at",
        "resolution",
    ]


@admin.register(Outbox)
class OutboxAdmin(AgentReadable, admin.ModelAdmin):
    """Read-only: what went out, what failed and why, and what waits for reconciliation.

    Rows in `reconcile` may or may not have reached the customer; check the provider's
    log before sending again (docs/twilio.md, "Reconciliation").
    """

    list_display = [
        "__str__",
        "channel",
        "status",
        "delivery_status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "created_at",
    ]
    list_filter = ["status", "channel"]
    list_select_related = ["event"]
    search_fields = ["provider_id"]
    ordering = ["-created_at"]
    show_full_result_count = False
    readonly_fields = [f.name for f in Outbox._meta.fields] + ["delivery_status"]

    @admin.display(description="delivery status")
    def delivery_status(self, item):
        return item.event.delivery_status or "-"

    def has_add_permission(self, request):
        return False  # rows are written by outbox.send, with their event

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AgentProfile)
class AgentProfileAdmin(admin.ModelAdmin):
    """Where calls ring (E.164) and whether they may (docs/twilio.md, "Voice")."""

    list_display = ["user", "phone", "available", "last_routed_at"]
    list_editable = ["available"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    readonly_fields = ["last_routed_at"]
