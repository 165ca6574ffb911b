"""Our Twilio accounts and numbers as each process holds them: `current()`.

Every webhook asks whose it is, so the rows are read whole (a shop has tens of numbers,
not thousands) into a `Directory` of plain values, kept for NUMBERS_CACHE_SECONDS. Saving
or deleting an account or a number empties this process's copy at once; other processes
follow within that time (docs/twilio.md). Auth tokens are read here, from the environment
or the secrets file, never from the database.

With no number as a row the directory is `None` and callers use the settings, as before
numbers were data (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER...).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from conversations.identities import WHATSAPP_PREFIX
from instore.models import Store

from .models import MessagingNumber, TwilioAccount

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Credentials:
    """What the REST client and the signature check need of an account."""

    account_sid: str
    auth_token: str


@dataclass(frozen=True)
class Number:
    pk: int
    address: str  # E.164 or short code; "" for a Messaging Service alone
    service_sid: str
    account: Credentials
    store_id: int | None
    store_name: str  # "" for the shop's own
    sms: bool
    voice: bool
    whatsapp: bool
    is_default: bool

    def can(self, channel: str) -> bool:
        return {"sms": self.sms, "voice": self.voice, "whatsapp": self.whatsapp}.get(channel, False)


@dataclass(frozen=True)
class Directory:
    accounts: dict[str, Credentials]  # by account SID, active accounts only
    by_address: dict[str, Number]  # active numbers of active accounts
    by_service: dict[str, Number]  # Messaging Services, by their SID
    numbers: tuple[Number, ...] = field(default=())

    @property
    def default(self) -> Number | None:
        return next((n for n in self.numbers if n.is_default), None)

    def number(self, address: str) -> Number | None:
        """Our number `address` (a `whatsapp:` prefix is ignored), or None."""
        if address[: len(WHATSAPP_PREFIX)].lower() == WHATSAPP_PREFIX:
            address = address[len(WHATSAPP_PREFIX) :]
        return self.by_address.get(address.strip())

    def of_store(self, store_id: int, channel: str) -> Number | None:
        """The store's first number that can carry `channel`."""
        return next((n for n in self.numbers if n.store_id == store_id and n.can(channel)), None)


_lock = threading.Lock()
_cached: tuple[float, int, Directory | None] | None = None  # (read at, generation, directory)
_generation = 0  # bumped by every change: a read begun before it is never kept


@receiver([post_save, post_delete], sender=TwilioAccount, dispatch_uid="numbers.forget.account")
@receiver([post_save, post_delete], sender=MessagingNumber, dispatch_uid="numbers.forget.number")
@receiver([post_save, post_delete], sender=Store, dispatch_uid="numbers.forget.store")
def forget(**kwargs) -> None:
    """Drop this process's copy: the next question reads the rows again. Again when the
    change commits: a read between the save and its commit still saw the old rows."""
    _bump()
    transaction.on_commit(_bump)


def _bump() -> None:
    global _cached, _generation
    with _lock:
        _generation += 1
        _cached = None


def current(*, fresh: bool = False) -> Directory | None:
    """The directory (None when no number is a row: use the settings). `fresh`: read the
    rows now (one query), for pages whose query count must not depend on the cache."""
    global _cached
    if fresh:
        return _read()
    cached = _cached
    if (
        cached is not None
        and cached[1] == _generation
        and time.monotonic() - cached[0] < settings.NUMBERS_CACHE_SECONDS
    ):
        return cached[2]
    generation = _generation
    directory = _read()
    with _lock:
        if generation == _generation:  # nothing changed while reading: keep it
            _cached = (time.monotonic(), generation, directory)
    return directory


def _read() -> Directory | None:
    """One query: every number with its account and store (inactive ones too, so that
    switching every number off refuses their traffic rather than handing it back to the
    settings)."""
    rows = list(MessagingNumber.objects.select_related("account", "store").order_by("pk"))
    if not rows:
        return None
    credentials: dict[int, Credentials] = {}
    read = []
    for row in rows:
        if not (row.active and row.account.active):
            continue
        if row.account_id not in credentials:
            credentials[row.account_id] = Credentials(
                row.account.account_sid, auth_token(row.account)
            )
        read.append(
            Number(
                pk=row.pk,
                address=row.phone_number,
                service_sid=row.messaging_service_sid,
                account=credentials[row.account_id],
                store_id=row.store_id,
                store_name=row.store.name if row.store_id else "",
                sms=row.sms,
                voice=row.voice,
                whatsapp=row.whatsapp,
                is_default=row.is_default,
            )
        )
    numbers = tuple(read)
    return Directory(
        accounts={c.account_sid: c for c in credentials.values()},
        by_address={n.address: n for n in numbers if n.address},
        by_service=_first_by(numbers, "service_sid"),
        numbers=numbers,
    )


def _first_by(numbers: tuple[Number, ...], attribute: str) -> dict[str, Number]:
    found: dict[str, Number] = {}
    for number in numbers:
        if value := getattr(number, attribute):
            found.setdefault(value, number)
    return found


def auth_token(account: TwilioAccount) -> str:
    """The account's auth token from where it says ("" when it is not there: its webhooks
    are then refused, and a warning names the account, never the token)."""
    token = ""
    if account.auth_token_env:
        name = account.auth_token_env
        token = os.environ.get(name, "")
        if not token and (path := os.environ.get(f"{name}_FILE")):
            token = _read_file(path).strip()
    elif account.auth_token_key:
        token = _secrets().get(account.auth_token_key, "")
    if not token:
        logger.warning("Twilio account %s: no auth token where it says", account.account_sid)
    return token if isinstance(token, str) else ""


def _secrets() -> dict:
    path = settings.TWILIO_SECRETS_FILE
    if not path:
        return {}
    try:
        data = json.loads(_read_file(path) or "{}")
    except ValueError:
        logger.warning("TWILIO_SECRETS_FILE is not a JSON object")
        return {}
    return data if isinstance(data, dict) else {}


def _read_file(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        logger.warning("cannot read the Twilio secrets file %s", path)
        return ""


def settings_credentials() -> Credentials:
    """The single account of the settings (a deployment with no rows)."""
    return Credentials(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN)
