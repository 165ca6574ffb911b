"""Engagement's send check (THROUGHLINE_SEND_CHECKS, asked by conversations/send_checks.py
at every send attempt of an outbox row, retries included).

Only proactive messages carry `send_rules` in their event's data (arbiter._send): an
agent's reply has none and is never held. For a nudge:

1. past its `expires_at`: dropped (the row fails as "expired", the nudge is suppressed and
   a `nudge` event says why);
2. outside the quiet hours of the jurisdictions it was decided under, on the recipient's
   clock (a retry due at 21:05 in Florida): it waits for the next window, with a `nudge`
   event saying until when, or is dropped if that window opens after `expires_at`.

The jurisdictions' rules are read as they are now (a changed setting applies at once);
which jurisdictions apply was decided with the nudge and recorded in its decision event.
"""

from __future__ import annotations

from datetime import datetime

from conversations.models import Outbox
from conversations.send_checks import Hold

from . import arbiter, jurisdictions
from .models import Nudge


def check(item: Outbox, *, now: datetime) -> Hold | None:
    """Hold (until the window's start) or drop (until None) a proactive message; None: go."""
    rules = (item.event.data or {}).get("send_rules")
    if not isinstance(rules, dict):
        return None  # not proactive: a person answering the customer
    expires_at = datetime.fromisoformat(rules["expires_at"]) if rules.get("expires_at") else None
    if expires_at is not None and now >= expires_at:
        reason = f"{arbiter.EXPIRED}: no longer worth sending after {expires_at:%a %H:%M} UTC"
        return _drop(item, reason)
    if "jurisdictions" not in rules:
        return None  # responsive: an answer to the customer's own contact, at any hour
    regime = jurisdictions.regime(rules["jurisdictions"], rules.get("zone", ""))
    later = regime.next_allowed(now)
    if later is None:
        return None
    until = arbiter.quiet_hours_end(later, regime)
    if expires_at is not None and later >= expires_at:
        reason = f"{arbiter.EXPIRED}: no longer worth sending after {expires_at:%a %H:%M} UTC"
        return _drop(item, f"{reason}, before {until}")
    reason = f"{arbiter.QUIET_HOURS} at the send attempt: until {until}"
    if nudge := _nudge(item):
        arbiter.record_decision(
            nudge, customer=nudge.customer, sent=False, reason=reason, waiting=True, regime=regime
        )
    return Hold(reason, until=later)


def _drop(item: Outbox, reason: str) -> Hold:
    """The nudge is not sent after all: suppressed, and the timeline says why."""
    if nudge := _nudge(item):
        nudge.status = Nudge.Status.SUPPRESSED
        nudge.reason = reason[:300]
        nudge.event = arbiter.record_decision(
            nudge, customer=nudge.customer, sent=False, reason=nudge.reason
        )
        nudge.save(update_fields=["status", "reason", "event"])
    return Hold(reason, until=None)


def _nudge(item: Outbox) -> Nudge | None:
    nudge_id = (item.event.data or {}).get("nudge")
    if not isinstance(nudge_id, int):
        return None
    return Nudge.objects.select_related("customer").filter(pk=nudge_id).first()
