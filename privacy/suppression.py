"""The suppression list: an erased customer's "stop" outlives the erasure (docs/privacy.md,
"The suppression list").

An erasure deletes the identities, and with them the opt-outs. So that a person who said
stop and then asked to be forgotten is not texted again when their number reappears (a
new contact, a shop's import), the erasure keeps, for each of their addresses that had
opted out, a keyed hash (HMAC-SHA256 with SUPPRESSION_HASH_KEY) and the time it opted
out: nothing else. The hash cannot be reversed without the key, and the key is not in the
database.

- `suppress_erased(identities)`: the erasure's step, before the identities go;
- `suppressed(kind, value)`: THROUGHLINE_SUPPRESSION_CHECKS, asked by conversations.consent
  wherever sending is decided (the outbox, when a message is written and before it goes);
- `lift(kind, value)`: an opt-in (START, a ticked consent box) removes the entry.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import cache

from django.conf import settings
from django.utils.crypto import salted_hmac

from .models import Suppression

REASON = "suppression list"
_FALLBACK_SALT = "throughline.privacy.suppression"


@cache
def _key(configured: str, secret_key: str) -> bytes:
    if configured:
        return configured.encode()
    # Derived from SECRET_KEY (check --deploy warns): rotating SECRET_KEY then forgets the list.
    return salted_hmac(_FALLBACK_SALT, "key", secret=secret_key, algorithm="sha256").digest()


def digest(kind: str, value: str) -> str:
    """The keyed hash of a normalised address, as stored."""
    key = _key(settings.SUPPRESSION_HASH_KEY, settings.SECRET_KEY)
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def suppressed(kind: str, value: str) -> str | None:
    """Why this address starts opted out ("suppression list"), or None. One indexed read."""
    if kind not in SUPPRESSED_KINDS:
        return None
    if Suppression.objects.filter(kind=kind, digest=digest(kind, value)).exists():
        return REASON
    return None


# The kinds of address an erasure keeps a stop for: the ones we send to.
SUPPRESSED_KINDS = ("phone", "email", "whatsapp", "short_code")


def suppress_erased(identities) -> int:
    """Keep the hash of every opted-out address among these identities (rows with kind,
    value, opted_out_at); return how many entries were added."""
    rows = [
        Suppression(kind=i.kind, digest=digest(i.kind, i.value), opted_out_at=i.opted_out_at)
        for i in identities
        if i.kind in SUPPRESSED_KINDS and i.opted_out_at is not None
    ]
    return len(Suppression.objects.bulk_create(rows, ignore_conflicts=True)) if rows else 0


def lift(kind: str, value: str) -> int:
    """The address opted in again: it is no longer suppressed."""
    return Suppression.objects.filter(kind=kind, digest=digest(kind, value)).delete()[0]
