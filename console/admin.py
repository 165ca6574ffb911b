"""The agent console in the Django admin (docs/console.md): the inbox, the conversation
page (timeline, context panel, reply box) and the model pages behind them.

The pages and actions live in views.py; this module registers the models and wires the
console's URLs under the conversation admin. Access follows Django's model permissions,
held by the groups "Agents" and "Managers" (console/roles.py): a staff user without
them gets 403 on every console page, action and the agent socket.
"""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import Exists, OuterRef
from django.urls import path
from django.views.decorators.http import require_POST

from base.admin_fields import LinesJsonAdmin
from console import consent_views, views
from console.access import is_agent
from conversations import reactions
from conversations.models import (
    AgentProfile,
    CannedResponse,
    Case,
    Conversation,
    Customer,
    Event,
    Identity,
    Outbox,
    ParkedReaction,
    Team,
)
from conversations.names import named_by_agent

# The agent's home: the admin index shows the workspace's queues first (docs/console.md).
admin.site.index_template = "admin/console_home.html"


def _matching_identity(queryset, term: str, customer_path: str):
    """Let agents find a customer by a phone typed any way, or by any identity value."""
    identities = Identity.objects.filter(
        customer=OuterRef(customer_path), value__in=views.identity_values(term)
    )
    return queryset.filter(Exists(identities))


class IdentityInline(admin.TabularInline):
    model = Identity
    extra = 0
    fields = ["kind", "value", "verified_at", "opted_out_at", "consent_source"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False  # identities are linked through link_identity, which merges when needed


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["__str__", "identity_list", "created_at", "merged_into"]
    search_fields = ["display_name"]
    fields = ["display_name", "name_source", "locale", "time_zone", "merged_into", "created_at"]
    readonly_fields = ["name_source", "merged_into", "created_at"]
    inlines = [IdentityInline]

    def save_model(self, request, obj, form, change):
        # A name an agent typed wins over every automatic one (conversations/names.py).
        if change and "display_name" in form.changed_data:
            named_by_agent(obj, obj.display_name, by=request.user)
            form.changed_data.remove("display_name")
        super().save_model(request, obj, form, change)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        customer = self.get_object(request, object_id)
        # the page is titled by her name (or "Unnamed customer #n"), as the panel calls her
        title = {"title": str(customer)} if customer is not None else {}
        return super().change_view(request, object_id, form_url, {**title, **(extra_context or {})})

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

    def has_add_permission(self, request):
        return False  # customers come from their identities (resolve_customer)

    def has_delete_permission(self, request, obj=None):
        return False  # the journal is append-only


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
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
        site = self.admin_site

        def action(view):
            return site.admin_view(require_POST(view))

        return [
            path("inbox/", site.admin_view(self.inbox_view), name="conversations_inbox"),
            path(
                "home-counts/", site.admin_view(views.home_counts), name="conversations_home_counts"
            ),
            path("presence/", action(views.presence), name="conversations_presence"),
            path("take-next/", action(views.take_next), name="conversations_take_next"),
            path("<path:object_id>/reply/", action(views.reply), name="conversations_reply"),
            path("<path:object_id>/note/", action(views.note), name="conversations_note"),
            path("<path:object_id>/assign/", action(views.assign), name="conversations_assign"),
            path("<path:object_id>/resolve/", action(views.resolve), name="conversations_resolve"),
            path("<path:object_id>/snooze/", action(views.snooze), name="conversations_snooze"),
            path(
                "<path:object_id>/call-back/",
                action(views.call_back),
                name="conversations_call_back",
            ),
            path(
                "<path:object_id>/schedule-call-back/",
                action(views.schedule_call_back),
                name="conversations_schedule_call_back",
            ),
            path(
                "<path:object_id>/asked-to-stop/",
                action(consent_views.asked_to_stop),
                name="conversations_asked_to_stop",
            ),
            path(
                "<path:object_id>/stop-request/",
                action(consent_views.review_flag),
                name="conversations_review_stop_request",
            ),
            path(
                "<path:object_id>/merge/",
                site.admin_view(self.merge_view),
                name="conversations_merge",
            ),
            *super().get_urls(),
        ]

    def inbox_view(self, request):
        return views.inbox(request, self.admin_site)

    def merge_view(self, request, object_id):
        return views.merge(request, self.admin_site, object_id)

    def has_module_permission(self, request):
        return is_agent(request.user)

    def has_add_permission(self, request):
        return False  # conversations are born with their customer

    def has_delete_permission(self, request, obj=None):
        return False  # the journal is append-only

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return views.conversation_page(request, self.admin_site, object_id)


def _matching_transcript(queryset, term: str):
    """Let agents find a conversation by words said in a call (voicemail transcripts)."""
    calls = Event.objects.filter(
        conversation=OuterRef("pk"), kind="call", data__transcript__icontains=term.strip()
    )
    return queryset.filter(Exists(calls))


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "conversation",
        "status",
        "priority",
        "intent",
        "team",
        "assignee",
        "opened_at",
    ]
    list_filter = ["status", "priority", "team"]
    list_select_related = ["conversation__customer", "assignee", "team"]
    readonly_fields = [
        "conversation",
        "opened_at",
        "first_response_at",
        "resolved_at",
        "resolution",
    ]

    def has_add_permission(self, request):
        return False  # cases open with an inbound need (journal.record)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Outbox)
class OutboxAdmin(admin.ModelAdmin):
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
class AgentProfileAdmin(LinesJsonAdmin, admin.ModelAdmin):
    """Who takes what: teams, skills, capacity, on call, and where calls ring (E.164)."""

    lines_fields = ("skills",)  # one skill per line, not JSON
    list_display = ["user", "phone", "available", "on_call", "capacity", "last_routed_at"]
    list_editable = ["available"]
    list_filter = ["available", "on_call", "teams"]
    list_select_related = ["user"]
    filter_horizontal = ["teams"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    readonly_fields = ["last_routed_at"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "response_target"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name", "slug"]


@admin.register(CannedResponse)
class CannedResponseAdmin(admin.ModelAdmin):
    """Saved replies; the body may use {first_name}, {name}, {agent}, {cart_value},
    {product} and {store} (console/canned.py)."""

    list_display = ["shortcut", "title"]
    search_fields = ["shortcut", "title", "body"]


class AgentProfileInline(admin.StackedInline):
    model = AgentProfile
    can_delete = False
    filter_horizontal = ["teams"]
    readonly_fields = ["last_routed_at"]
    verbose_name_plural = "agent profile"


User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class AgentUserAdmin(UserAdmin):
    """Django's user page with the agent's profile on it: one place to add an agent
    (staff, the "Agents" group, teams, skills, capacity, phone)."""

    inlines = [AgentProfileInline]
    list_display = [*UserAdmin.list_display, "is_active"]
    list_filter = [*UserAdmin.list_filter, "agent_profile__available"]


@admin.register(ParkedReaction)
class ParkedReactionAdmin(admin.ModelAdmin):
    """Reactions that failed on an event (docs/subsystems/reactions.md): those still being
    retried, and those parked for a person. Fix the cause, then replay; delete a row to
    give up on it."""

    list_display = [
        "__str__",
        "status",
        "attempts",
        "error",
        "last_failed_at",
        "next_attempt_at",
    ]
    list_filter = ["status", "reaction"]
    search_fields = ["=event_id", "reaction"]
    ordering = ["-last_failed_at"]
    readonly_fields = [f.name for f in ParkedReaction._meta.fields]
    actions = ["replay"]

    @admin.action(description="Replay the selected reactions now", permissions=["change"])
    def replay(self, request, queryset):
        worked, failed = reactions.replay_all(queryset.order_by("pk"))
        level = messages.SUCCESS if not failed else messages.WARNING
        self.message_user(request, f"{worked} worked, {failed} failed again.", level)

    def has_add_permission(self, request):
        return False  # rows are written by the reactions that fail
