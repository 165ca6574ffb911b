"""The agent console's pages and actions, wired into the admin by admin.py (docs/console.md).

Views stay thin: check access and the action's permission, parse, call one verb, answer.
Every page reads a bounded number of rows (keyset timeline pages, an index-walked inbox
page), so a 10,000-event history or a 10,000-case inbox opens like a small one.
"""

from __future__ import annotations

import contextlib
import zoneinfo
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string

from base.inputs import ascii_int, read_datetime
from console import canned, presenter, replies, workspace
from console.access import access_conversation, can_act, is_agent, next_url
from console.inbox import InboxFilters, inbox_page, waiting_since
from console.notes import add_note
from console.socket_address import socket_url_for_page
from console.suggestions import suggest
from conversations import cases
from conversations.broadcast import event_payload
from conversations.consent_review import consent_panel
from conversations.context import build_context
from conversations.identities import InvalidIdentity, merge_customers, normalize_phone
from conversations.models import Case, Conversation, Customer, Event, Identity, Team
from conversations.outbox import Refused
from conversations.queries import timeline_page
from routing.hours import store_choices

REPLY = "conversations.change_conversation"
CASE = "conversations.change_case"
MERGE = "conversations.change_customer"
SNOOZE_PRESETS = {"1h": timedelta(hours=1), "4h": timedelta(hours=4), "1d": timedelta(days=1)}


def conversation_url(conversation_id: int) -> str:
    return reverse("admin:conversations_conversation_change", args=[conversation_id])


def websocket_url(request) -> str:
    """Where this page opens the agent socket: WEBSOCKET_BASE_URL (named for the page's own
    loopback host, so the login cookie goes along), else this host."""
    base = settings.WEBSOCKET_BASE_URL
    if not base:
        scheme = "wss" if request.is_secure() else "ws"
        base = f"{scheme}://{request.get_host()}"
    return socket_url_for_page(f"{base}/ws/agent/", request)


def _agents() -> list:
    """Who a case can be assigned to: active staff in the Agents or Managers group."""
    return list(
        get_user_model()
        .objects.filter(is_active=True, is_staff=True, groups__name__in=["Agents", "Managers"])
        .distinct()
        .order_by("username")[:200]
    )


# ---- the workspace: conversation list | timeline | context panel, on one page
#
# The inbox and a conversation are the same page: the inbox shows the list with no
# conversation open; a conversation's address shows it open beside the list. The page's
# script opens another conversation in place (`?fragment=panes`: the timeline and context
# panes only), refreshes the list (`?fragment=1`: its rows only) and sends actions with
# fetch, which answers JSON (`_answer`); without the script every link and form still
# works as a plain page.


def _list_context(request, filters: InboxFilters) -> dict:
    rows = inbox_page(filters, user=request.user)
    size = settings.INBOX_PAGE_SIZE
    shown = rows[:size]
    for row in shown:
        row.waiting_since = waiting_since(row)
        # an automatic message went out after the customer's words: say it is not an answer
        row.automatic_only = bool(
            row.waiting_since and row.last_outbound_at and row.last_outbound_at >= row.waiting_since
        )
    return {
        "rows": shown,
        "filters": filters,
        "list_query": filters.as_query(),
        "has_next": len(rows) > size,
        "next_query": filters.as_query(page=filters.page + 1),
        "previous_query": filters.as_query(page=filters.page - 1) if filters.page > 1 else None,
        "now": timezone.now(),
    }


def _page_context(request, admin_site, title: str) -> dict:
    return {
        **admin_site.each_context(request),
        # the workspace needs the width: the admin's model menu stays on the other pages
        "is_nav_sidebar_enabled": False,
        "title": title,
        "opts": Conversation._meta,
        "teams": list(Team.objects.all()[:100]),
        "agents": _agents(),
        "stores": store_choices(),
        "channels": [c for c in Event.Channel.values if c not in ("system", "agent")],
        "statuses": ["open", "pending", "snoozed", "all"],
        "websocket_url": websocket_url(request),
        "available": workspace.is_available(request.user),
    }


def inbox(request, admin_site):
    if not is_agent(request.user):
        raise PermissionDenied("Agents only.")
    filters = InboxFilters.from_query(request.GET)
    context = _list_context(request, filters)
    if request.GET.get("fragment"):
        # the live refresh: only the rows, with the same filters
        return TemplateResponse(request, "admin/conversations/inbox_rows.html", context)
    context.update(_page_context(request, admin_site, "Inbox"))
    return TemplateResponse(request, "admin/conversations/inbox.html", context)


def home_counts(request):
    """The agent home's live figures (console/workspace.py), as JSON."""
    if not is_agent(request.user):
        raise PermissionDenied("Agents only.")
    return JsonResponse(workspace.home_counts(request.user).as_json())


def presence(request):
    """POST available=1|0: the agent's available / away toggle (routing's capacity)."""
    if not is_agent(request.user):
        raise PermissionDenied("Agents only.")
    value = request.POST.get("available", "")
    if value not in ("0", "1"):
        return HttpResponseBadRequest("available: 1 (available) or 0 (away).")
    workspace.set_available(request.user, value == "1")
    text = (
        "You are available: new cases come to you."
        if value == "1"
        else ("You are away: no new cases come to you; yours stay yours.")
    )
    if _wants_json(request):
        return JsonResponse({"ok": True, "available": value == "1", "message": text})
    messages.success(request, text)
    return redirect(next_url(request))


def take_next(request):
    """POST: assign the agent the next unassigned conversation and open it."""
    can_act(request.user, CASE)
    taken = workspace.take_next(request.user)
    if taken is None:
        text = "Nothing unassigned is waiting."
        if _wants_json(request):
            return JsonResponse({"ok": False, "message": text})
        messages.info(request, text)
        return redirect(reverse("admin:conversations_inbox"))
    url = conversation_url(taken.pk)
    text = f"{taken.customer} is yours now."
    if _wants_json(request):
        return JsonResponse({"ok": True, "message": text, "conversation": taken.pk, "url": url})
    messages.success(request, text)
    return redirect(url)


# ---- the conversation page


def conversation_page(request, admin_site, object_id):
    conversation = access_conversation(request.user, object_id)
    if conversation.status == Conversation.Status.MERGED:
        return redirect(conversation_url(conversation.customer.merged_into.conversation.pk))
    before = request.GET.get("before")
    before_seq = ascii_int(before)
    events = timeline_page(conversation, before_seq=before_seq, size=settings.TIMELINE_PAGE_SIZE)
    if before_seq is None:
        cases.mark_read(conversation)
    context = build_context(conversation.customer)
    channels = replies.reply_channels(context)
    preferred = replies.preferred_channel(conversation)
    default, default_why = replies.reach(
        channels,
        last=context.last_channel,
        preferred=preferred,
        widget_open=replies.widget_open(conversation),
    )
    schedule = getattr(settings, "THROUGHLINE_SCHEDULE_CALL_BACK", "")
    page = {
        "conversation": conversation,
        "events": events,
        # page and product views folded into one line per visit (console/presenter.py)
        "events_json": presenter.present(_event_json(e) for e in events),
        "older_seq": events[0].seq if events and events[0].seq > 1 else None,
        "is_latest": before_seq is None,
        "context": context,
        "case": context.open_case,
        "suggestions": suggest(context),
        "reply_channels": channels,
        "default_channel": default,
        "default_channel_why": default_why,
        "preferred_channel": preferred,
        "customer_time_zone": conversation.customer.time_zone,
        # what "Schedule a call back" reads its time in (schedule_call_back's fallback)
        "schedule_zone": conversation.customer.time_zone or settings.TIME_ZONE,
        "canned": canned.filled_responses(context, agent=request.user),
        "agents": _agents(),
        "can_call_back": bool(getattr(settings, "THROUGHLINE_CALL_BACK", "")),
        "can_schedule_call_back": bool(schedule),
        "can_reply": request.user.has_perm(REPLY),
        "can_change_case": request.user.has_perm(CASE),
        "can_merge": request.user.has_perm(MERGE),
        **consent_panel(conversation, context.identities),
    }
    if request.GET.get("fragment") == "panes":
        # opened in place by the workspace's script: the timeline and context panes only
        page["title"] = str(conversation.customer)
        return TemplateResponse(request, "admin/conversations/conversation/panes.html", page)
    page.update(_list_context(request, InboxFilters.from_query(request.GET)))
    page.update(_page_context(request, admin_site, str(conversation.customer)))
    return TemplateResponse(request, "admin/conversations/conversation/timeline.html", page)


def _event_json(event: Event) -> dict:
    """What the page's script renders (the same shape the socket sends, plus the author)."""
    payload = event_payload(event)
    payload["author_name"] = str(event.author) if event.author_id else ""
    return payload


# ---- actions (POST). Sent by the workspace's script (X-Requested-With: fetch) each
# answers JSON {"ok", "message"} and the page updates in place (the event itself arrives
# on the agent socket); a plain form post goes back to the page with a message.


def _wants_json(request) -> bool:
    return request.headers.get("X-Requested-With") == "fetch"


def _answer(request, conversation: Conversation, ok: bool, text: str):
    if _wants_json(request):
        return JsonResponse({"ok": ok, "message": text, "conversation": conversation.pk})
    (messages.success if ok else messages.error)(request, text)
    return redirect(conversation_url(conversation.pk))


def _back(conversation: Conversation):
    return redirect(conversation_url(conversation.pk))


def reply(request, object_id):
    conversation = access_conversation(request.user, object_id)
    can_act(request.user, REPLY)
    channel, body = request.POST.get("channel", ""), request.POST.get("body", "")
    try:
        replies.reply(
            customer=conversation.customer, channel=channel, body=body, author=request.user
        )
    except Refused as exc:
        return _answer(request, conversation, False, f"Not sent: {exc}")
    return _answer(request, conversation, True, f"Sent by {replies.LABELS.get(channel, channel)}.")


def note(request, object_id):
    conversation = access_conversation(request.user, object_id)
    can_act(request.user, REPLY)
    try:
        add_note(
            customer=conversation.customer, author=request.user, body=request.POST.get("body", "")
        )
    except ValueError as exc:
        return _answer(request, conversation, False, str(exc))
    return _answer(request, conversation, True, "Note added.")


def _open_case(conversation: Conversation) -> Case | None:
    return Case.objects.filter(pk=conversation.current_case_id).first()


def assign(request, object_id):
    conversation = access_conversation(request.user, object_id)
    can_act(request.user, CASE)
    case = _open_case(conversation)
    value = request.POST.get("assignee", "")
    if value == "me":
        assignee = request.user
    elif value in ("", "none"):
        assignee = None
    elif (agent_id := ascii_int(value)) is not None:
        assignee = (
            get_user_model().objects.filter(pk=agent_id, is_active=True, is_staff=True).first()
        )
        if assignee is None:
            return HttpResponseBadRequest("No such agent.")
    else:
        return HttpResponseBadRequest("assignee: an agent's id, 'me' or 'none'.")
    return _case_verb(
        request,
        conversation,
        case,
        lambda: cases.assign_case(case, assignee=assignee, by=request.user),
    )


def resolve(request, object_id):
    conversation = access_conversation(request.user, object_id)
    can_act(request.user, CASE)
    case = _open_case(conversation)
    return _case_verb(
        request, conversation, case, lambda: cases.resolve_case(case, by=request.user)
    )


def snooze(request, object_id):
    conversation = access_conversation(request.user, object_id)
    can_act(request.user, CASE)
    case = _open_case(conversation)
    until = _snooze_until(request.POST.get("until", ""))
    if until is None:
        return HttpResponseBadRequest("until: 1h, 4h, 1d or a date and time (YYYY-MM-DDTHH:MM).")
    return _case_verb(
        request, conversation, case, lambda: cases.snooze_case(case, until=until, by=request.user)
    )


def _snooze_until(value: str) -> datetime | None:
    if value in SNOOZE_PRESETS:
        return timezone.now() + SNOOZE_PRESETS[value]
    return read_datetime(value, zone=timezone.get_current_timezone())


def _case_verb(request, conversation: Conversation, case: Case | None, run):
    if case is None:
        return _answer(request, conversation, False, "There is no open case: nothing to change.")
    try:
        event = run()
    except (cases.CaseClosed, ValueError) as exc:
        return _answer(request, conversation, False, str(exc))
    return _answer(request, conversation, True, event.body)


def call_back(request, object_id):
    """The "Call back now" button: ring the agent, then the customer."""
    conversation = access_conversation(request.user, object_id)
    can_act(request.user, REPLY)
    try:
        import_string(settings.THROUGHLINE_CALL_BACK)(
            customer=conversation.customer, agent=request.user
        )
    except Refused as exc:
        return _answer(request, conversation, False, str(exc))
    return _answer(
        request, conversation, True, "Calling you now; the customer is dialled when you answer."
    )


def schedule_call_back(request, object_id):
    """ "Schedule a call back": book a slot for the customer through the verb named in
    THROUGHLINE_SCHEDULE_CALL_BACK (routing's); at that time it lands in an agent's inbox."""
    conversation = access_conversation(request.user, object_id)
    can_act(request.user, CASE)
    path = getattr(settings, "THROUGHLINE_SCHEDULE_CALL_BACK", "")
    if not path:
        return HttpResponseBadRequest("Scheduled call backs are not set up.")
    customer = conversation.customer
    zone = request.POST.get("time_zone") or customer.time_zone or settings.TIME_ZONE
    try:
        zone_info = zoneinfo.ZoneInfo(zone)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        zone_info = None
    slot = read_datetime(request.POST.get("slot", ""), zone=zone_info) if zone_info else None
    if slot is None:
        return HttpResponseBadRequest("slot: a date and time (YYYY-MM-DDTHH:MM); time_zone: IANA.")
    if slot <= timezone.now():
        return _answer(request, conversation, False, "Pick a time in the future.")
    try:
        import_string(path)(customer=customer, slot=slot, time_zone=zone)
    except ValueError as exc:  # routing's SlotUnavailable
        return _answer(request, conversation, False, str(exc) or "That slot is not available.")
    return _answer(
        request, conversation, True, f"Call back scheduled for {slot:%Y-%m-%d %H:%M} ({zone})."
    )


def merge(request, admin_site, object_id):
    """GET: the preview of what will move; POST: merge the other customer in."""
    conversation = access_conversation(request.user, object_id)
    can_act(request.user, MERGE)
    other = _other_customer(request.POST.get("other") or request.GET.get("other", ""))
    if other is None or other.pk == conversation.customer_id:
        if request.method == "POST":
            messages.error(request, "Pick another customer (their number, or an identity).")
            return _back(conversation)
        other = None
    if request.method == "POST":
        survivor = merge_customers(conversation.customer, other, reason=f"console: {request.user}")
        messages.success(request, "Customers merged.")
        return redirect(conversation_url(survivor.conversation.pk))
    context = {
        **admin_site.each_context(request),
        "opts": Conversation._meta,
        "title": f"Merge into {conversation.customer}",
        "conversation": conversation,
        "other": other,
        "query": request.GET.get("other", ""),
        "preview": _merge_preview(conversation.customer, other) if other else None,
    }
    return TemplateResponse(request, "admin/conversations/conversation/merge.html", context)


def identity_values(term: str) -> set[str]:
    """The identity values a search term may mean: as typed, lower-cased, or as a phone
    number typed any way ("(415) 555-0132")."""
    values = {term.strip().lower(), term.strip()}
    with contextlib.suppress(InvalidIdentity):
        values.add(normalize_phone(term))
    return values


def _other_customer(term: str) -> Customer | None:
    """A customer by number (#12 or 12) or by any of their identities' values."""
    term = term.strip().lstrip("#")
    if not term:
        return None
    if (customer_id := ascii_int(term, high=2**31 - 1)) is not None:
        customer = Customer.objects.filter(pk=customer_id).first()
    else:
        identity = (
            Identity.objects.filter(value__in=identity_values(term))
            .select_related("customer")
            .first()
        )
        customer = identity.customer if identity else None
    if customer is None:
        return None
    while customer.merged_into_id:
        customer = customer.merged_into
    return customer


def _merge_preview(keep: Customer, other: Customer) -> dict:
    """What a merge of `other` into `keep`'s conversation moves (merge_customers keeps the
    older customer; both timelines end up in one)."""
    older, newer = sorted([keep, other], key=lambda c: (c.created_at, c.pk))
    return {
        "survivor": older,
        "merged": newer,
        "identities": list(newer.identities.all()),
        "events": Event.objects.filter(conversation__customer=newer).count(),
        "cases": Case.objects.filter(conversation__customer=newer).count(),
        "open_cases": Case.objects.filter(conversation__customer__in=[keep, other])
        .exclude(status=Case.Status.RESOLVED)
        .count(),
    }
