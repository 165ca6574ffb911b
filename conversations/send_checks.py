"""Checks asked at every send attempt of an outbox row, retries included (docs/twilio.md,
"Outbound"; docs/compliance.md, "Quiet hours and frequency by jurisdiction").

Apps register checks in THROUGHLINE_SEND_CHECKS (dotted paths), so the core asks them
without importing any app: engagement holds a proactive message outside its recipient's
quiet hours, and drops one no longer worth sending. A check is
`check(item, *, now) -> Hold | None`; it runs inside the transaction that applies its
answer, so a trace it writes (engagement's `nudge` event) commits with the row's new
status or not at all. It must not talk to the network.

`held(item)` runs after the claim (the row is `sending`, its attempt counted):

- a hold with `until`: the row goes back to `pending` with next_attempt_at = until, and
  the attempt is given back (waiting is not failing);
- a hold without `until`: the row is `failed` with error code "expired" and the message's
  delivery status `canceled`, the reason written for agents.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from base import plugins
from conversations import delivery
from conversations.models import Outbox

EXPIRED = "expired"
HELD = "held"


@dataclass(frozen=True)
class Hold:
    """A check's answer when the message must not go now: wait `until`, or never (None)."""

    reason: str  # for agents: never a phone number or the body
    until: datetime | None = None


def held(item: Outbox) -> str | None:
    """Ask every check about this claimed row; on the first hold, apply it and return the
    row's new status. None: send it now."""
    checks = plugins.enabled("send_checks")
    if not checks:
        return None
    now = timezone.now()
    with transaction.atomic():
        for check in checks:
            if (hold := check(item, now=now)) is not None:
                return _wait(item, hold, now) if hold.until else _expire(item, hold, now)
    return None


def _wait(item: Outbox, hold: Hold, now: datetime) -> str:
    Outbox.objects.filter(pk=item.pk, status=Outbox.Status.SENDING).update(
        status=Outbox.Status.PENDING,
        next_attempt_at=hold.until,
        attempts=F("attempts") - 1,
        claimed_at=None,
        error_code=HELD,
        last_error=hold.reason,
        updated_at=now,
    )
    return Outbox.Status.PENDING


def _expire(item: Outbox, hold: Hold, now: datetime) -> str:
    if Outbox.objects.filter(pk=item.pk, status=Outbox.Status.SENDING).update(
        status=Outbox.Status.FAILED,
        claimed_at=None,
        error_code=EXPIRED,
        last_error=hold.reason,
        updated_at=now,
    ):
        delivery.update_delivery_status(
            item.event, "canceled", error_code=EXPIRED, reason=hold.reason
        )
    return Outbox.Status.FAILED
