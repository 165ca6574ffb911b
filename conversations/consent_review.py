"""An ambiguous stop, and the agent who decides it (docs/compliance.md, "Revocation").

`flag_revocation` records the flag: marketing halts at once (privacy's ledger, read by
the arbiter's gate) and the console shows "Possible request to stop" with two actions,
`confirm_revocation` (an opt-out, as if the customer had said STOP) and
`dismiss_revocation` (marketing may resume). Each is a `consent` event pointing at the
flag (`data["resolves"]`); a flag is pending while nothing resolves it.
"""

from __future__ import annotations

from django.db import transaction

from conversations import consent
from conversations.consent import DISMISSED, FLAGGED, record_statement
from conversations.locks import conversation_for_update
from conversations.models import Customer, Event, Identity


def flag_revocation(
    identity: Identity | None,
    *,
    customer: Customer | None = None,
    words: str,
    source: str,
    channel: str,
    message: Event | None = None,
) -> Event:
    """An ambiguous stop ("Can I stop by tomorrow?", "not interested"): marketing halts at
    once (the ledger's flag, read by the arbiter's gate) and the console asks an agent to
    confirm or dismiss it. Returns the internal `consent` event that is the flag."""
    customer = identity.customer if identity is not None else customer
    with transaction.atomic():
        return record_statement(
            customer,
            FLAGGED,
            source=source,
            channel=channel,
            words=words,
            # marketing halts on every channel until an agent decides
            proof=consent.Proof(text=words, channel=""),
            identity=identity,
            extra={"message": message.pk} if message is not None else {},
        )


def confirm_revocation(flag: Event, *, by) -> list[Event]:
    """The agent read the flagged message as a stop: opt out what it came from."""
    with transaction.atomic(durable=True):
        flag = _pending_flag(flag)
        words = flag.data.get("words", "")
        identity = Identity.objects.filter(pk=flag.data.get("identity")).first()
        if identity is None:
            return consent.opt_out_customer(
                flag.conversation.customer, source="agent:confirmed", channel=flag.channel,
                direction=Event.Direction.INTERNAL, words=words, author=by, resolves=flag.pk,
            )  # fmt: skip
        return [
            consent.opt_out(
                identity,
                source="agent:confirmed",
                channel=flag.channel,
                body=f"An agent confirmed a request to stop: {words}",
                proof=consent.Proof(text=words),
                author=by,
                resolves=flag.pk,
            )
        ]


def dismiss_revocation(flag: Event, *, by) -> Event:
    """The agent read the flagged message as not a stop: marketing may resume."""
    with transaction.atomic(durable=True):
        flag = _pending_flag(flag)
        return record_statement(
            flag.conversation.customer,
            DISMISSED,
            source="agent:dismissed",
            channel=flag.channel,
            words=flag.data.get("words", ""),
            proof=consent.Proof(text="", channel=""),
            author=by,
            resolves=flag.pk,
        )


class NotPending(ValueError):
    """The flag was resolved already (by another agent, or by a STOP since)."""


def pending_flags(conversation) -> list[Event]:
    """The conversation's flags no agent has resolved yet, oldest first (two small reads)."""
    flags = list(
        Event.objects.filter(
            conversation=conversation, kind="consent", data__action=FLAGGED
        ).order_by("seq")
    )
    if not flags:
        return []
    resolved = set(
        Event.objects.filter(
            conversation=conversation, kind="consent", data__has_key="resolves"
        ).values_list("data__resolves", flat=True)
    )
    return [flag for flag in flags if flag.pk not in resolved]


def _pending_flag(flag: Event) -> Event:
    conversation = conversation_for_update(flag.conversation.customer)
    flag = Event.objects.select_related("conversation__customer").get(pk=flag.pk)
    if flag.data.get("action") != FLAGGED or flag.pk not in {
        f.pk for f in pending_flags(conversation)
    }:
        raise NotPending("This request was already handled.")
    return flag


def consent_panel(conversation, identities) -> dict:
    """What the page shows: the flags waiting for an agent, and which addresses start
    opted out because their owner was erased after saying stop (the suppression list)."""
    suppressed = {
        identity.value
        for identity in identities
        if not identity.opted_out and consent.suppressed(identity.kind, identity.value)
    }
    return {"consent_flags": pending_flags(conversation), "suppressed": suppressed}
