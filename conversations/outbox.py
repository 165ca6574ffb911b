"""The outbox: how every channel sends a message (docs/twilio.md, "Outbound").

Verbs: `send` writes the outbound `message` event and its `Outbox` row in one
transaction and enqueues delivery after commit (it and its checks live in outbox_send.py);
`deliver` claims the row, calls the channel's sender outside any transaction and records
what happened; `record_provider_status` takes the provider's delivery callbacks; `sweep`
re-enqueues due retries and hands rows whose worker died mid-send to reconciliation
(outbox_retry.py, with the retry schedule). Every name of the three modules is imported
from this one (`outbox.send`, `outbox.Refused`, `outbox.NOT_SENT_ON`, `outbox.sweep`...).

Senders are declared by channel adapters (kind `senders`; THROUGHLINE_SENDERS): a sender
takes an `Outbox` row and returns a `Receipt`, or raises `SendError` saying whether the
message may have left and whether to try again. The guarantees:

- a message is sent at most once: only the worker whose conditional UPDATE moved the row
  from `pending` to `sending` calls the provider, and a row whose outcome is unknown
  (timeout after the request went out, a worker killed mid-call) goes to `reconcile`,
  never back to `pending`;
- nothing is lost: a row whose task vanished (broker down at commit, worker lost before
  the claim) is still `pending` and the sweep enqueues it again;
- STOP wins: consent is checked when the row is written and again just before the call;
- every attempt, retries included, asks the THROUGHLINE_SEND_CHECKS (send_checks.py): a
  proactive message outside its recipient's quiet hours waits, an outdated one expires.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from base import plugins
from conversations import consent, delivery, send_checks
from conversations.identities import sms_address_kind
from conversations.models import Event, Identity, Outbox

# The schedule (retries, the sweep) lives in outbox_retry; `outbox.sweep` stays its name.
from conversations.outbox_retry import MAX_ATTEMPTS, retry_later
from conversations.outbox_retry import RETRY_DELAYS as RETRY_DELAYS
from conversations.outbox_retry import sweep as sweep

# The send verb and its checks live in outbox_send; callers know them as `outbox.send`...
from conversations.outbox_send import ADDRESS_KIND as ADDRESS_KIND
from conversations.outbox_send import ALSO_REACHES as ALSO_REACHES
from conversations.outbox_send import MAX_BODY_CHARS as MAX_BODY_CHARS
from conversations.outbox_send import MAX_MEDIA as MAX_MEDIA
from conversations.outbox_send import NOT_SENT_ON as NOT_SENT_ON
from conversations.outbox_send import Refused as Refused
from conversations.outbox_send import enqueue_delivery_on_commit as enqueue_delivery_on_commit
from conversations.outbox_send import plain_text as plain_text
from conversations.outbox_send import send as send

logger = logging.getLogger(__name__)


class SendError(Exception):
    """A sender could not send. `maybe_sent`: the request may have reached the provider, so
    it is never retried blindly; `permanent`: retrying cannot help; `opted_out`: the
    provider says the recipient said stop (the identity is opted out)."""

    def __init__(
        self,
        reason: str,
        *,
        code: str = "",
        permanent: bool = False,
        maybe_sent: bool = False,
        opted_out: bool = False,
    ):
        super().__init__(reason)
        self.reason = reason
        self.code = str(code or "")
        self.permanent = permanent or opted_out
        self.maybe_sent = maybe_sent
        self.opted_out = opted_out


@dataclass(frozen=True)
class Receipt:
    """What a provider answered when it took a message."""

    provider_id: str
    status: str = "queued"
    # A stand-in backend that never sends (the console's, the tests' locmem) names itself
    # here; the message's delivery status then says "not sent: console backend", never
    # queued or delivered (delivery.not_sent).
    not_sent_by: str = ""


def _address_kind(channel: str, address: str) -> str | None:
    """The identity kind of an address a row is sent to (SMS: a phone or a short code)."""
    return sms_address_kind(address) if channel == "sms" else ADDRESS_KIND.get(channel)


# ---------------------------------------------------------------------------- delivering


def _sender(channel: str):
    """The channel's transport, which its adapter declares (kind `senders`, base/plugins.py)."""
    return plugins.mapping("senders")[channel]


def deliver(outbox_id: int) -> str:
    """Deliver one outbox row, at most once; return the row's status afterwards.

    1. Claim: one conditional UPDATE moves the row from pending to sending. Zero rows
       updated means another worker has it, it is done, or it is gone: do nothing.
    2. Check consent again: a STOP may have arrived since the row was written; then the
       send checks (send_checks.py): not now (pending again, at the time they say) or never.
    3. Call the sender, outside any transaction (it talks to the network).
    4. Record the outcome: sent; failed (permanent, or out of attempts); pending again with
       next_attempt_at (transient, and the request never left); reconcile (unknown).
    A worker killed between 1 and 4 leaves the row sending; the sweep moves it to
    reconcile. It is never sent again by us.
    """
    now = timezone.now()
    # durable: the provider call below must never run inside a caller's transaction
    with transaction.atomic(durable=True):
        claimed = Outbox.objects.filter(pk=outbox_id, status=Outbox.Status.PENDING).update(
            status=Outbox.Status.SENDING, claimed_at=now, updated_at=now, attempts=F("attempts") + 1
        )
    if not claimed:
        return Outbox.objects.filter(pk=outbox_id).values_list("status", flat=True).first() or ""
    item = Outbox.objects.select_related("event").get(pk=outbox_id)
    kind = _address_kind(item.channel, item.to_address)
    if kind and consent.is_opted_out(kind, item.to_address):
        return _fail(
            item, SendError("The recipient opted out before it was sent.", code="opted_out")
        )
    if (status := send_checks.held(item)) is not None:
        return status
    try:
        receipt = _sender(item.channel)(item)
    except SendError as exc:
        logger.warning(
            "outbox %s: %s send failed (code %s, permanent=%s, maybe_sent=%s)",
            item.pk, item.channel, exc.code or "-", exc.permanent, exc.maybe_sent,
        )  # fmt: skip
        return _handle_error(item, exc)
    except Exception:
        # A bug in a sender: we cannot tell whether anything went out.
        logger.exception("outbox %s: the %s sender crashed", item.pk, item.channel)
        return _reconcile(item, "The sender crashed; it is unknown whether the message went out.")
    return _sent(item, receipt)


def _handle_error(item: Outbox, error: SendError) -> str:
    if error.opted_out:
        _opt_out_recipient(item, error.code)
    if error.maybe_sent:
        return _reconcile(item, error.reason, code=error.code)
    if error.permanent:
        return _fail(item, error)
    if item.attempts >= MAX_ATTEMPTS:
        return _fail(
            item,
            SendError(f"Gave up after {item.attempts} attempts: {error.reason}", code=error.code),
        )
    return retry_later(item, code=error.code, reason=error.reason)


def _opt_out_recipient(item: Outbox, code: str) -> None:
    """The provider says the recipient said stop: make our records agree."""
    identity = Identity.objects.filter(
        kind=_address_kind(item.channel, item.to_address), value=item.to_address
    ).first()
    if identity is not None and identity.opted_out_at is None:
        # The provider refused the send we claimed then: the stop is at least that old, so
        # a START the customer sent since (the callback may come late) still stands.
        consent.opt_out(
            identity,
            source=f"{item.channel}:provider {code or 'opt-out'}",
            occurred_at=item.claimed_at,
        )


# The outcome may land after the sweep gave up on a slow worker (reconcile) or after a
# provider callback already proved the send (sent): knowledge only ever improves.
_UNSETTLED = [Outbox.Status.SENDING, Outbox.Status.RECONCILE]


def _sent(item: Outbox, receipt: Receipt) -> str:
    now = timezone.now()
    status = receipt.status if receipt.status in delivery.DELIVERY_STATUS_RANK else "queued"
    if receipt.not_sent_by:
        status = delivery.not_sent(receipt.not_sent_by)
    with transaction.atomic():
        Outbox.objects.filter(pk=item.pk, status__in=_UNSETTLED).update(
            status=Outbox.Status.SENT,
            provider_id=receipt.provider_id,
            sent_at=now,
            claimed_at=None,
            error_code="",
            last_error="",
            updated_at=now,
        )
        delivery.update_delivery_status(item.event, status, source_id=receipt.provider_id or None)
    return Outbox.Status.SENT


def _fail(item: Outbox, error: SendError) -> str:
    now = timezone.now()
    with transaction.atomic():
        Outbox.objects.filter(pk=item.pk, status__in=_UNSETTLED).update(
            status=Outbox.Status.FAILED,
            claimed_at=None,
            error_code=error.code,
            last_error=error.reason,
            updated_at=now,
        )
        delivery.update_delivery_status(
            item.event, "failed", error_code=error.code, reason=error.reason
        )
    return Outbox.Status.FAILED


def _reconcile(
    item: Outbox, reason: str, *, code: str = "", claimed_before: datetime | None = None
) -> str:
    now = timezone.now()
    rows = Outbox.objects.filter(pk=item.pk, status=Outbox.Status.SENDING)
    if claimed_before is not None:
        rows = rows.filter(claimed_at__lt=claimed_before)
    with transaction.atomic():
        if rows.update(
            status=Outbox.Status.RECONCILE, error_code=code, last_error=reason, updated_at=now
        ):
            delivery.update_delivery_status(
                item.event, "unconfirmed", error_code=code, reason=reason
            )
    return Outbox.Status.RECONCILE


# ---------------------------------------------------------------------------- callbacks


def record_provider_status(
    *,
    channel: str,
    provider_id: str,
    status: str,
    error_code: str = "",
    reason: str = "",
    outbox_id: int | None = None,
    opted_out: bool = False,
) -> Event | None:
    """Apply a provider's delivery callback; return the event, or None if it is not ours.

    The event is found by the provider's id, or, when the worker never got to record that
    id (it died, or timed out, after the provider took the message), by the outbox id we
    put in the callback URL. Either way a callback proves the provider has the message, so
    the outbox row is settled as sent: a row in reconcile heals itself. `opted_out`: the
    provider reports the recipient said stop (Twilio 21610), so the identity is opted out.
    """
    event = Event.objects.filter(channel=channel, source_id=provider_id).first()
    if event is None and outbox_id is not None:
        item = Outbox.objects.select_related("event").filter(pk=outbox_id, channel=channel).first()
        if item is not None and item.provider_id in ("", provider_id):
            event = item.event
    if event is None or event.direction != Event.Direction.OUT:
        return None
    now = timezone.now()
    with transaction.atomic():
        Outbox.objects.filter(event=event).exclude(
            status__in=[Outbox.Status.SENT, Outbox.Status.FAILED]
        ).update(
            status=Outbox.Status.SENT,
            provider_id=provider_id,
            sent_at=now,
            claimed_at=None,
            error_code="",
            last_error="",
            updated_at=now,
        )
        delivery.update_delivery_status(
            event, status, error_code=error_code, reason=reason, source_id=provider_id
        )
        if opted_out and (item := Outbox.objects.filter(event=event).first()):
            _opt_out_recipient(item, error_code)
    return event
