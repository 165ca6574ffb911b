"""Routing's reaction to every recorded event (THROUGHLINE_EVENT_REACTIONS).

Runs off the request path, in a `manage.py react` process (inline after commit in tests:
docs/subsystems/reactions.md). Inbound needs go to triage.route; a case turning hot (a
`routing` event with action `hot`, from any verb) pages the on-call agents; the shop's
orders and carts re-evaluate the open case's intent (triage.reevaluate). Everything
else returns at once: this sees every event, so its no-op path is a few attribute reads.
Running twice for one event (after a crashed `react`, or from `manage.py
replay_reactions`) changes nothing: each decision is taken once per case, a case is paged
once per hot event, and a replay routes only cases that were never routed (it fills in
what was lost; a routed case has moved on since).
"""

from __future__ import annotations

from conversations import reactions
from conversations.models import Case, Event

from .paging import page_on_call
from .triage import REEVALUATING_KINDS, ROUTED_KINDS, reevaluate, route


def on_event(event: Event) -> None:
    if event.direction == Event.Direction.IN:
        if event.kind in ROUTED_KINDS and not (reactions.replaying() and _routed(event)):
            route(event)
    elif event.kind == "routing" and event.data.get("action") == "hot" and not _paged(event):
        page_on_call(event)
    elif event.kind in REEVALUATING_KINDS:
        reevaluate(event)  # a replay re-asks the context: the same answer records nothing


def _routed(event: Event) -> bool:
    return Case.objects.filter(pk=event.case_id).exclude(intent="").exists()


def _paged(hot: Event) -> bool:
    """Whether the page for this hot event was recorded already (page_on_call records it
    after the hot event, in the same conversation)."""
    return Event.objects.filter(
        conversation_id=hot.conversation_id,
        seq__gt=hot.seq,
        kind="routing",
        data__action="page",
        data__case=hot.data.get("case"),
    ).exists()
