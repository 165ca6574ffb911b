"""What anonymous widget visitors leave behind, swept after ANONYMOUS_SWEEP_AFTER.

Verb: `sweep_anonymous_leftovers`, run hourly by Celery beat (`webchat.sweep_anonymous`)
or by hand (`manage.py sweep_anonymous`). docs/widget.md, "What anonymous traffic costs".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from conversations.visitors import sweep_anonymous

from .models import PhoneVerification


@dataclass(frozen=True)
class Swept:
    customers: int
    phone_codes: int


def sweep_anonymous_leftovers(*, now=None) -> Swept:
    """Remove the customers made for visitors who never wrote anything (made before
    anonymous visitors were free, or left by a first call that failed half-way) and the
    phone codes older than ANONYMOUS_SWEEP_AFTER (they hold a number; the per-number and
    per-visitor caps look back one hour only)."""
    now = now or timezone.now()
    customers = sweep_anonymous(now=now)
    cutoff = now - timedelta(seconds=settings.ANONYMOUS_SWEEP_AFTER)
    phone_codes, _ = PhoneVerification.objects.filter(created_at__lt=cutoff).delete()
    return Swept(customers=customers, phone_codes=phone_codes)
