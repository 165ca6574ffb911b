"""Tracking webhooks: what the provider says happened to a mail we sent (anymail's
normalised tracking events, Postmark and Mailgun), onto the outbox and consent.

- sent, queued: `sent`; delivered: `delivered`; opened, clicked: `read`;
- bounced (hard), rejected, failed: `undelivered` / `failed` with the reason; a hard
  bounce, or an address the provider refuses as bounced or invalid, opts the address out
  (source `email:bounced`), so nothing is sent to it again;
- complained (marked as spam), unsubscribed (at the provider): the address opts out
  (`email:complained`, `email:unsubscribed`);
- deferred, soft bounces, autoresponded, unknown: nothing.

Opted-out addresses stay stopped after an erasure (the suppression list, privacy/).
The message is found by the provider's id, or by the outbox id in the metadata we sent;
a status about a message we do not know is answered 200 and ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

from anymail.signals import EventType  # type: ignore[import-untyped]
from django.db import transaction

from base.inputs import ascii_int
from conversations import consent, outbox
from conversations.models import Event, Identity

from .backends import strip_brackets
from .gate import BadMail, anymail_webhook

_STATUS = {
    EventType.QUEUED: "sent",
    EventType.SENT: "sent",
    EventType.DELIVERED: "delivered",
    EventType.OPENED: "read",
    EventType.CLICKED: "read",
    EventType.BOUNCED: "undelivered",
    EventType.REJECTED: "failed",
    EventType.FAILED: "failed",
    EventType.COMPLAINED: "delivered",
    EventType.UNSUBSCRIBED: "delivered",
}
# Why, in words an agent can act on.
REASONS = {
    EventType.BOUNCED: "The mail bounced: the address does not exist or does not accept mail.",
    EventType.REJECTED: (
        "The provider refused to send to this address (it bounced or complained before)."
    ),
    EventType.FAILED: "The provider could not send the message.",
    EventType.COMPLAINED: "The recipient marked the mail as spam; they will not be emailed again.",
    EventType.UNSUBSCRIBED: "The recipient unsubscribed; they will not be emailed again.",
}
# Postmark's bounces that are not final (anymail calls them bounced too)
_SOFT = {"SoftBounce", "Transient", "DnsError", "AutoResponder", "OpenRelayTest"}
_STOPS = {EventType.COMPLAINED: "complained", EventType.UNSUBSCRIBED: "unsubscribed"}
MAX_ID = 128


@dataclass(frozen=True)
class TrackingStatus:
    provider: str
    provider_id: str
    event_type: str
    status: str
    recipient: str
    outbox_id: int | None
    code: str
    stop: str  # why the address opts out, "" when it does not


def parse_tracking(anymail_event, provider: str) -> TrackingStatus | None:
    """One tracking event, or None for what we do not track; BadMail when unreadable."""
    event_type = anymail_event.event_type
    status = _STATUS.get(event_type)
    esp = anymail_event.esp_event if isinstance(anymail_event.esp_event, dict) else {}
    if status is None or esp.get("Type") in _SOFT:
        return None
    provider_id = strip_brackets(anymail_event.message_id or "")
    metadata = anymail_event.metadata if isinstance(anymail_event.metadata, dict) else {}
    raw_outbox = str(metadata.get("outbox", ""))
    outbox_id = ascii_int(raw_outbox, high=10**14 - 1)
    if not provider_id and outbox_id is None:
        raise BadMail("The event names no message (no message id, no outbox metadata).")
    if len(provider_id) > MAX_ID:
        raise BadMail("The message id is too long.")
    stop = _STOPS.get(event_type, "")
    if event_type == EventType.BOUNCED or (
        event_type == EventType.REJECTED and anymail_event.reject_reason in ("bounced", "invalid")
    ):
        stop = "bounced"
    return TrackingStatus(
        provider=provider,
        provider_id=provider_id,
        event_type=event_type,
        status=status,
        recipient=(anymail_event.recipient or "").strip().lower()[:254],
        outbox_id=outbox_id,
        code=str(anymail_event.reject_reason or event_type)[:32],
        stop=stop,
    )


def record_tracking(status: TrackingStatus) -> Event | None:
    """Apply one tracking event to the mail it is about; None when it is not ours."""
    with transaction.atomic():
        event = outbox.record_provider_status(
            channel=Event.Channel.EMAIL,
            provider_id=status.provider_id or f"outbox:{status.outbox_id}",
            status=status.status,
            error_code=status.code if status.status in ("undelivered", "failed") else "",
            reason=REASONS.get(status.event_type, ""),
            outbox_id=status.outbox_id,
        )
        if event is not None and status.stop:
            _stop(event, status)
    return event


def _stop(event: Event, status: TrackingStatus) -> None:
    """The address the mail went to is not to be emailed again (opted out, so suppressed)."""
    address = getattr(getattr(event, "outbox", None), "to_address", "") or status.recipient
    identity = Identity.objects.filter(kind=Identity.Kind.EMAIL, value=address).first()
    if identity is None or identity.opted_out_at is not None:
        return
    consent.opt_out(
        identity,
        source=f"email:{status.stop}",
        channel=Event.Channel.EMAIL,
        proof=consent.Proof(text=f"{status.provider} {status.event_type} ({status.code})"),
    )


receive_postmark = anymail_webhook(
    "anymail.webhooks.postmark.PostmarkTrackingWebhookView",
    provider="postmark",
    parse=parse_tracking,
    record=record_tracking,
)
receive_mailgun = anymail_webhook(
    "anymail.webhooks.mailgun.MailgunTrackingWebhookView",
    provider="mailgun",
    parse=parse_tracking,
    record=record_tracking,
)
