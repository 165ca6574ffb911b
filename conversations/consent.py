"""Consent per identity: STOP on a number stops everything sent to that number.

Verbs: `opt_out`, `opt_in`. Each changes the identity (`opted_out_at`, `consented_at`,
`consent_source`) and leaves a `consent` event in the timeline, in one transaction, so an
agent can always see when and how a customer said stop or start. Senders ask
`is_opted_out` (the outbox does, twice: when a message is written and again just before
it goes out).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from . import journal
from .models import Event, Identity

OPT_OUT = "opt_out"
OPT_IN = "opt_in"


def opt_out(
    identity: Identity,
    *,
    source: str,
    channel: str = Event.Channel.SYSTEM,
    direction: str = Event.Direction.INTERNAL,
    body: str = "",
    source_id: str | None = None,
) -> Event:
    """Stop all messages to this identity; return the `consent` event.

    `source` says how, for people and audits: "sms:STOP", "twilio:21610", "admin". A
    repeated opt-out keeps the first `opted_out_at` but is still recorded: the customer did
    say it again. `body`/`source_id` let an inbound keyword text be that event itself.
    """
    return _change(
        identity,
        OPT_OUT,
        source=source,
        channel=channel,
        direction=direction,
        body=body,
        source_id=source_id,
    )


def opt_in(
    identity: Identity,
    *,
    source: str,
    channel: str = Event.Channel.SYSTEM,
    direction: str = Event.Direction.INTERNAL,
    body: str = "",
    source_id: str | None = None,
) -> Event:
    """Allow messages to this identity again (START, UNSTOP, a preference page); return the
    `consent` event."""
    return _change(
        identity,
        OPT_IN,
        source=source,
        channel=channel,
        direction=direction,
        body=body,
        source_id=source_id,
    )


def _change(identity, action, *, source, channel, direction, body, source_id) -> Event:
    now = timezone.now()
    with transaction.atomic():
        rows = Identity.objects.filter(pk=identity.pk)
        if action == OPT_OUT:
            # conditional: the first opt-out's time is the one that counts
            changed = rows.filter(opted_out_at=None).update(opted_out_at=now, consent_source=source)
        else:
            changed = rows.exclude(opted_out_at=None).update(
                opted_out_at=None, consented_at=now, consent_source=source
            )
            if not changed:
                rows.filter(consented_at=None).update(consented_at=now, consent_source=source)
        identity.refresh_from_db(
            fields=["customer", "opted_out_at", "consented_at", "consent_source"]
        )
        return journal.record(
            customer=identity.customer,
            channel=channel,
            direction=direction,
            kind="consent",
            body=body or ("Opted out" if action == OPT_OUT else "Opted in") + f" ({source})",
            data={
                "action": action,
                "identity": identity.pk,
                "identity_kind": identity.kind,
                "source": source,
                "changed": bool(changed),
            },
            source_id=source_id,
        )


def is_opted_out(kind: str, value: str) -> bool:
    """Whether this (already normalised) address said stop; unknown addresses have not."""
    return Identity.objects.filter(kind=kind, value=value).exclude(opted_out_at=None).exists()
