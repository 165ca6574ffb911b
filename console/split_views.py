"""The console's undoing of merges and its possible duplicates queue
(docs/subsystems/identities.md, "Unmerge" and "Possible duplicates").

- "Split…" on a merge line of the timeline: a preview of what returns where, then the
  split (`splits.unmerge`), with the events recorded since the merge the agent ticks;
- the possible duplicates queue: confirm (merge) or dismiss a pair.

Thin, like views.py: check access and the permission, call one verb, go back. Both need
the merge permission (`conversations.change_customer`); who acted is recorded.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_http_methods

from base.inputs import ascii_int
from console.access import access_conversation, can_act, is_agent
from console.views import MERGE, conversation_url
from conversations import duplicates, merges, splits
from conversations.models import (
    Case,
    Conversation,
    Event,
    Identity,
    Merge,
    MergeMove,
    PossibleDuplicate,
)


def _by(request) -> str:
    return f"console:{request.user.get_username()}"


@require_http_methods(["GET", "POST"])
def split(request, event_id: int):
    """GET: what the split of the merge recorded by this event would return where; POST: split."""
    merge = Merge.objects.filter(merge_event_id=event_id).select_related("survivor", "merged")
    merge = merge.first()
    if merge is None:
        raise Http404("No merge is recorded for this event (merges before provenance are final).")
    event = Event.objects.get(pk=event_id)
    holder = access_conversation(request.user, event.conversation_id)
    can_act(request.user, MERGE)
    if request.method == "POST":
        chosen = [ascii_int(v, high=2**62) for v in request.POST.getlist("move")]
        if None in chosen:
            return HttpResponseBadRequest("move: event ids (ASCII digits).")
        try:
            split_off = splits.unmerge(merge, by=_by(request), move_events=chosen)
        except merges.NotSplittable as refusal:
            messages.error(request, str(refusal))
            return redirect(request.path)
        messages.success(request, f"Split: {split_off} has their own conversation again.")
        return redirect(conversation_url(holder.pk))
    context = {
        **admin.site.each_context(request),
        "opts": Conversation._meta,
        "title": f"Split {merge.merged} from {merge.survivor}",
        "merge": merge,
        "conversation": holder,
        "preview": _preview(merge, holder) if merge.unmerged_at is None else None,
    }
    return TemplateResponse(request, "console/split_preview.html", context)


def _preview(merge: Merge, holder: Conversation) -> dict:
    """What returns to the merged customer, and what was recorded since (to tick)."""
    moved = MergeMove.objects.filter(merge=merge, action=MergeMove.Action.MOVED)
    returning_events = moved.filter(table_name=Event._meta.db_table).values_list("row_id")
    tables = {}
    for table in moved.values_list("table_name", flat=True):
        tables[table] = tables.get(table, 0) + 1
    return {
        "identities": Identity.objects.filter(
            pk__in=moved.filter(table_name=Identity._meta.db_table).values_list("row_id")
        ),
        "events": Event.objects.filter(pk__in=returning_events).count(),
        "cases": Case.objects.filter(
            pk__in=moved.filter(table_name=Case._meta.db_table).values_list("row_id")
        ).count(),
        "tables": sorted(tables.items()),
        "since": Event.objects.filter(conversation=holder, pk__gt=merge.merge_event_id or 0)
        .exclude(kind__in=["merge", "split"])
        .order_by("seq"),
    }


@require_http_methods(["GET", "POST"])
def possible_duplicates(request):
    """The queue; POST confirms (merges) or dismisses one pair."""
    if not is_agent(request.user):
        raise PermissionDenied("You may not do this: ask a manager for the permission.")
    if request.method == "POST":
        can_act(request.user, MERGE)
        pair_id = ascii_int(request.POST.get("pair", ""), high=2**62)
        decision = request.POST.get("decision")
        if pair_id is None or decision not in ("confirm", "dismiss"):
            return HttpResponseBadRequest("pair: an id; decision: confirm or dismiss.")
        pair = PossibleDuplicate.objects.filter(pk=pair_id).first()
        if pair is None:
            raise Http404("No such pair.")
        if decision == "confirm":
            survivor = duplicates.confirm(pair, by=_by(request))
            messages.success(request, f"Merged into {survivor}.")
        else:
            duplicates.dismiss(pair, by=_by(request))
            messages.success(request, "Dismissed: this pair will not be suggested again.")
        return redirect(request.path)
    context = {
        **admin.site.each_context(request),
        "title": "Possible duplicates",
        "pairs": duplicates.open_pairs()[:200],
        "can_merge": request.user.has_perm(MERGE),
    }
    return TemplateResponse(request, "console/possible_duplicates.html", context)
