"""Routing's reaction to every recorded event (THROUGHLINE_EVENT_REACTIONS).

Runs off the request path, in a `manage.py react` process (inline after commit in tests:
docs/subsystems/reactions.md). Inbound needs go to triage.route; a case turning hot (a
`routing` event with action `hot`, from any verb) pages the on-call agents. Everything
else returns at once: this sees every event, so its no-op path is a few attribute reads.
Running twice for one event (after a crashed `react`) changes nothing: each decision is
taken once per case.
"""

from __future__ import annotations

from conversations.models import Event

from .paging import page_on_call
from .triage import ROUTED_KINDS, route


def on_event(event: Event) -> None:
    if event.direction == Event.Direction.IN:
        if event.kind in ROUTED_KINDS:
            route(event)
    elif event.kind == "routing" and event.data.get("action") == "hot":
        page_on_call(event)
