"""Consent per identity: STOP on a number stops everything sent to that number.

Verbs: `opt_out`, `opt_in`. Each changes the identity (`opted_out_at`, `consented_at`,
`consent_source`) and leaves a `consent` event in the timeline, in one transaction, so an
agent can always see when and how a customer said stop or start. The state follows the
statement made last (`occurred_at`), not the one that arrived last. Senders ask
`is_opted_out` (the outbox does, twice: when a message is written and again just before
it goes out).
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from . import journal
from .locks import conversation_for_update
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
    occurred_at: datetime | None = None,
) -> Event:
    """Stop all messages to this identity; return the `consent` event.

    `source` says how, for people and audits: "sms:STOP", "twilio:21610", "admin". A
    repeated opt-out keeps the first `opted_out_at` but is still recorded: the customer did
    say it again. `body`/`source_id` let an inbound keyword text be that event itself;
    `occurred_at` is when the customer said it, if not now (see `_change`).
    """
    return _change(
        identity,
        OPT_OUT,
        source=source,
        channel=channel,
        direction=direction,
        body=body,
        source_id=source_id,
        occurred_at=occurred_at,
    )


def opt_in(
    identity: Identity,
    *,
    source: str,
    channel: str = Event.Channel.SYSTEM,
    direction: str = Event.Direction.INTERNAL,
    body: str = "",
    source_id: str | None = None,
    occurred_at: datetime | None = None,
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
        occurred_at=occurred_at,
    )


def _change(identity, action, *, source, channel, direction, body, source_id, occurred_at):
    """Apply a consent statement made at `occurred_at` (default now) and record it there.

    The identity's consent is what its statements say when read in the order they were
    made, not the order they arrived: a START made before a STOP that is already recorded
    changes nothing (it is still recorded, at its time, marked `late`), whichever reaches
    us first. On equal times the opt-out wins. Steps:
    1. lock the customer's conversation, so one customer's consent statements are decided
       one at a time, and re-read the identity;
    2. read the identity's recorded statements (a handful) and replay them with this one
       in time order (`_replay`);
    3. store the result on the identity if it differs, and record the `consent` event.
    """
    at = occurred_at or timezone.now()
    with transaction.atomic():
        conversation = conversation_for_update(identity.customer)
        identity.refresh_from_db(
            fields=["customer", "opted_out_at", "consented_at", "consent_source"]
        )
        recorded = list(
            Event.objects.filter(
                conversation=conversation, kind="consent", data__identity=identity.pk
            ).values_list("data__action", "occurred_at", "data__source")
        )
        late = any(
            other != action and (other_at > at or (other_at == at and other == OPT_OUT))
            for other, other_at, _ in recorded
        )
        was_out = identity.opted_out_at is not None
        state = _replay(identity, [*recorded, (action, at, source)])
        if state != (identity.opted_out_at, identity.consented_at, identity.consent_source):
            identity.opted_out_at, identity.consented_at, identity.consent_source = state
            Identity.objects.filter(pk=identity.pk).update(
                opted_out_at=state[0], consented_at=state[1], consent_source=state[2]
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
                "changed": was_out != (identity.opted_out_at is not None),
                "late": late,
            },
            source_id=source_id,
            occurred_at=at,
        )


def _replay(identity, statements: list[tuple[str, datetime, str]]) -> tuple:
    """(opted_out_at, consented_at, consent_source) after these statements in time order.

    The rules of one statement at a time: an opt-out keeps the first `opted_out_at` while
    opted out; an opt-in after an opt-out sets `consented_at`, and a first opt-in sets it
    when nothing had. Consent given outside these statements (an import) is the start.
    """
    gave_consent = any(action == OPT_IN for action, _, _ in statements[:-1])
    consented_at = None if gave_consent else identity.consented_at
    opted_out_at, source = None, "" if gave_consent else identity.consent_source
    # on equal times the opt-out comes last, so it wins
    for action, at, said in sorted(statements, key=lambda s: (s[1], s[0] == OPT_OUT)):
        if action == OPT_OUT:
            if opted_out_at is None:
                opted_out_at, source = at, said
        elif opted_out_at is not None:
            opted_out_at, consented_at, source = None, at, said
        elif consented_at is None:
            consented_at, source = at, said
    return opted_out_at, consented_at, source


def is_opted_out(kind: str, value: str) -> bool:
    """Whether this (already normalised) address said stop; unknown addresses have not."""
    return Identity.objects.filter(kind=kind, value=value).exclude(opted_out_at=None).exists()
