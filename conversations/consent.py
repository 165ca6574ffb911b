"""Consent per identity: STOP on a number stops everything sent to that number
(docs/privacy.md, docs/compliance.md).

Verbs: `opt_out`, `opt_in`, `opt_out_customer` (a stop said on a channel with no address
of its own: a call, the widget); consent_review.py holds the verbs of an ambiguous stop.
Each changes the identity (`opted_out_at`, `consented_at`, `consent_source`) and leaves
a `consent` event in the timeline, in one transaction, so an agent can always see when
and how a customer said stop or start. The state follows the statement made last
(`occurred_at`), not the one that arrived last.

Apps plug in through two registries (settings), so this core imports none of them:

- THROUGHLINE_CONSENT_HOOKS: `hook(event, identity, proof)` inside the transaction of
  every consent statement (privacy keeps its proof ledger and suppression list with it);
- THROUGHLINE_SUPPRESSION_CHECKS: `check(kind, value) -> reason | None`: an address that
  objected before its owner was erased starts opted out (privacy's suppression list).

Senders ask `is_opted_out` / `refusal` (the outbox does, twice: when a message is written
and again just before it goes out).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from base import limits, plugins
from conversations import journal
from conversations.identities import live_customer
from conversations.locks import conversation_for_update
from conversations.models import Customer, Event, Identity

OPT_OUT = "opt_out"
OPT_IN = "opt_in"
FLAGGED = "revocation_flagged"  # an ambiguous stop, waiting for an agent
DISMISSED = "revocation_dismissed"  # the agent read it: not a stop
# The kinds of identity a stop said without an address (a call, the widget) applies to.
CONTACT_KINDS = ("phone", "email", "whatsapp", "short_code")


@dataclass(frozen=True)
class Proof:
    """What the customer saw or said when they gave or withdrew consent, for the ledger.

    `text`: the exact words shown (a disclosure) or received (a STOP); `version` of that
    text; `topics` it covers (empty: every topic); `channel` it covers (None: the channel
    of the identity that said it; "": every channel); the client's address and user agent
    where there is one.
    """

    text: str
    version: str = ""
    topics: tuple[str, ...] = ()
    channel: str | None = None
    ip: str | None = None
    user_agent: str = ""


def opt_out(
    identity: Identity,
    *,
    source: str,
    channel: str = Event.Channel.SYSTEM,
    direction: str = Event.Direction.INTERNAL,
    body: str = "",
    source_id: str | None = None,
    occurred_at: datetime | None = None,
    proof: Proof | None = None,
    author=None,
    resolves: int | None = None,
) -> Event:
    """Stop all messages to this identity; return the `consent` event.

    `source` says how, for people and audits: "sms:STOP", "twilio:21610", "admin". A
    repeated opt-out keeps the first `opted_out_at` but is still recorded: the customer did
    say it again. `body`/`source_id` let an inbound keyword text be that event itself;
    `occurred_at` is when the customer said it, if not now (see `_change`); `proof` the
    words that said it (default: `body`); `resolves` the flag (`flag_revocation`) an agent
    confirmed with it.
    """
    return _change(
        identity,
        OPT_OUT,
        author=author,
        resolves=resolves,
        source=source,
        channel=channel,
        direction=direction,
        body=body,
        source_id=source_id,
        occurred_at=occurred_at,
        proof=proof,
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
    proof: Proof | None = None,
) -> Event:
    """Allow messages to this identity again (START, UNSTOP, a preference page); return the
    `consent` event."""
    return _change(
        identity,
        OPT_IN,
        author=None,
        resolves=None,
        source=source,
        channel=channel,
        direction=direction,
        body=body,
        source_id=source_id,
        occurred_at=occurred_at,
        proof=proof,
    )


def _change(
    identity,
    action,
    *,
    source,
    channel,
    direction,
    body,
    source_id,
    occurred_at,
    proof,
    author,
    resolves,
):
    """Apply a consent statement made at `occurred_at` (default now) and record it there.

    The identity's consent is what its statements say when read in the order they were
    made, not the order they arrived: a START made before a STOP that is already recorded
    changes nothing (it is still recorded, at its time, marked `late`), whichever reaches
    us first. On equal times the opt-out wins. Steps:
    1. lock the customer's conversation, so one customer's consent statements are decided
       one at a time, and re-read the identity;
    2. read the identity's recorded statements (a handful) and replay them with this one
       in time order (`_replay`);
    3. store the result on the identity if it differs, and record the `consent` event;
    4. tell THROUGHLINE_CONSENT_HOOKS, in the same transaction (the proof ledger).
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
        event = journal.record(
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
                **({"resolves": resolves} if resolves else {}),
            },
            source_id=source_id,
            occurred_at=at,
            author=author,
        )
        _tell_hooks(event, identity, proof or Proof(text=body))
        return event


def opt_out_customer(
    customer: Customer,
    *,
    source: str,
    channel: str,
    direction: str = Event.Direction.IN,
    words: str = "",
    author=None,
    resolves: int | None = None,
    message: Event | None = None,
) -> list[Event]:
    """A stop said where the customer has no address of its own (a call: "stop calling
    me"; the widget's "Stop messages"; an agent told so): every address of theirs opts
    out, and the proof ledger records it for every channel. Returns the `consent` events;
    `message`, the customer's message that said it, is named in the last one.
    """
    proof = Proof(text=words, channel="")
    with transaction.atomic():
        customer = live_customer(customer)
        conversation_for_update(customer)  # one customer's statements one at a time
        contacts = list(customer.identities.filter(kind__in=CONTACT_KINDS).order_by("pk"))
        events = [
            opt_out(
                identity,
                source=source,
                channel=channel,
                direction=direction,
                body=words or f"Asked us to stop ({source})",
                proof=proof,
                author=author,
                resolves=resolves,
            )
            for identity in contacts
        ]
        if not events or message is not None:  # the ledger says stop, even with no number
            events.append(
                record_statement(customer, OPT_OUT, source=source, channel=channel, words=words,
                        proof=proof, author=author, resolves=resolves,
                        extra={"message": message.pk} if message is not None else None)
            )  # fmt: skip
    return events


def record_statement(customer, action, *, source, channel, words, proof, author=None, identity=None,
            resolves=None, extra=None) -> Event:  # fmt: skip
    """Record a consent statement that changes no identity's flags (a stop from a widget
    visitor with no address, a flag, its dismissal) and tell the hooks. Inside the
    caller's transaction."""
    labels = {
        OPT_OUT: "Asked us to stop",
        FLAGGED: "Possible request to stop (an agent confirms or dismisses)",
        DISMISSED: "Not a request to stop (dismissed by an agent)",
    }
    event = journal.record(
        customer=customer,
        channel=channel,
        direction=Event.Direction.INTERNAL,
        kind="consent",
        body=f"{labels[action]}: {words}" if words else labels[action],
        data={
            "action": action,
            "identity": identity.pk if identity is not None else None,
            "identity_kind": identity.kind if identity is not None else "",
            "source": source,
            "words": words[:500],
            **({"resolves": resolves} if resolves else {}),
            **(extra or {}),
        },
        author=author,
    )
    _tell_hooks(event, identity, proof)
    return event


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
    """Whether this (already normalised) address said stop, or is on a suppression list
    (it said stop before its owner was erased); other unknown addresses have not."""
    if Identity.objects.filter(kind=kind, value=value).exclude(opted_out_at=None).exists():
        return True
    return suppressed(kind, value) is not None


def suppressed(kind: str, value: str) -> str | None:
    """Why this address starts opted out though its identity never said stop (the
    suppression list: docs/privacy.md), or None."""
    for check in plugins.enabled("suppression_checks"):
        if reason := check(kind, value):
            return str(reason)
    return None


def refusal(channel: str, identity: Identity) -> str | None:
    """Why nothing may be sent on `channel` to this identity, for the agent; None: it may.
    One query, and only for an identity that has not opted out (the suppression list)."""
    if identity.opted_out_at is not None:
        return (
            f"The customer opted out of {channel} ({identity.consent_source or 'opt-out'}, "
            f"{identity.opted_out_at:%Y-%m-%d %H:%M} UTC); nothing was sent."
        )
    if reason := suppressed(identity.kind, identity.value):
        return f"The customer opted out of {channel} ({reason}); nothing was sent."
    return None


@dataclass(frozen=True)
class Disclosure:
    """The words shown beside a consent box, and their version (a hash of the words)."""

    text: str
    version: str

    def ticked(self, request, *, channel: str | None = "sms") -> Proof:
        """The proof that the client of `request` ticked the box shown with these words:
        the words, their version, the address and user agent (`channel` as in Proof)."""
        return Proof(
            text=self.text,
            version=self.version,
            channel=channel,
            ip=limits.request_address(request),
            user_agent=request.headers.get("User-Agent", "")[:500],
        )


def sms_disclosure(shop: str = "") -> Disclosure:
    """The text-marketing disclosure (CONSENT_SMS_DISCLOSURE) as shown for this shop."""
    text = settings.CONSENT_SMS_DISCLOSURE.replace(
        "{shop}", shop or getattr(settings, "ENGAGEMENT_SHOP_NAME", "") or "us"
    )
    return Disclosure(text, "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:16])


def _tell_hooks(event: Event, identity: Identity | None, proof: Proof) -> None:
    for hook in plugins.enabled("consent_hooks"):
        hook(event, identity, proof)
