"""The consent ledger: every grant and withdrawal of consent, with its proof
(docs/compliance.md, "Proving consent").

`on_consent(event, identity, proof)` is registered in THROUGHLINE_CONSENT_HOOKS: every
consent statement made through conversations.consent (STOP, START, a revocation in any
words on any channel, a ticked consent box, an agent's decision) writes its rows here in
the same transaction. `record_grant` writes a grant that changes no identity (a topic
turned on on the preference page). `state(customer, topic, channel)` is what the gate
reads; `proof_for(kind, value)` is what `manage.py consent_proof` prints.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection
from django.db.models import Q

from conversations import consent
from conversations.models import Customer, Event, Identity

from . import suppression
from .models import ConsentRecord

Action = ConsentRecord.Action
_ACTIONS = {
    consent.OPT_OUT: Action.REVOKED,
    consent.OPT_IN: Action.GRANTED,
    consent.FLAGGED: Action.FLAGGED,
    consent.DISMISSED: Action.DISMISSED,
}
# the channel an identity's kind is reached on
_CHANNEL_OF = {"phone": "sms", "short_code": "sms", "whatsapp": "whatsapp", "email": "email"}


def on_consent(event: Event, identity: Identity | None, proof: consent.Proof) -> None:
    """Write the ledger rows of one consent statement (a THROUGHLINE_CONSENT_HOOK)."""
    action = _ACTIONS.get(event.data.get("action"))
    if action is None:
        return
    if action == Action.GRANTED and identity is not None:
        suppression.lift(identity.kind, identity.value)
        if not proof.text:
            return  # an opt-in with no words shown or said is no proof (an admin's click)
    resolves = None
    if flag_event := event.data.get("resolves"):
        resolves = ConsentRecord.objects.filter(event_id=flag_event).first()
    channel = proof.channel
    if channel is None:  # the channel of the identity that said it
        channel = _CHANNEL_OF.get(identity.kind, event.channel) if identity is not None else ""
    for topic in proof.topics or ("",):
        ConsentRecord.objects.create(
            customer_id=event.conversation.customer_id,
            action=action,
            topic=topic,
            channel=channel,
            address_kind=identity.kind if identity is not None else "",
            address=identity.value if identity is not None else "",
            source=str(event.data.get("source", ""))[:100],
            words=proof.text,
            text_version=proof.version,
            ip=proof.ip or None,
            user_agent=proof.user_agent[:500],
            occurred_at=event.occurred_at,
            recorded_by_id=event.author_id,
            event_id=event.pk,
            resolves=resolves,
        )


def record_grant(
    customer: Customer,
    *,
    topic: str,
    channel: str,
    source: str,
    proof: consent.Proof,
    occurred_at: datetime,
    event: Event | None = None,
    revoked: bool = False,
) -> ConsentRecord:
    """A grant (or, `revoked`, a withdrawal) of one topic on one channel that changes no
    identity: the preference page's boxes. Inside the caller's transaction."""
    return ConsentRecord.objects.create(
        customer=customer,
        action=Action.REVOKED if revoked else Action.GRANTED,
        topic=topic,
        channel=channel,
        source=source[:100],
        words=proof.text,
        text_version=proof.version,
        ip=proof.ip or None,
        user_agent=proof.user_agent[:500],
        occurred_at=occurred_at,
        event_id=event.pk if event is not None else None,
    )


# The latest statement that decides a (customer, topic, channel): a flag an agent
# dismissed no longer counts, nor does the dismissal itself.
STATE_SQL = """
SELECT r.action FROM privacy_consentrecord r
WHERE r.customer_id = %(customer)s AND r.channel IN (%(channel)s, '')
    AND r.topic IN (%(topic)s, '') AND r.action IN ('granted', 'revoked', 'flagged')
    AND NOT (r.action = 'flagged' AND EXISTS (
        SELECT 1 FROM privacy_consentrecord d WHERE d.resolves_id = r.id))
ORDER BY r.occurred_at DESC, r.id DESC LIMIT 1
"""


def state(customer_id: int, *, topic: str, channel: str) -> str | None:
    """ "granted", "revoked", "flagged" (marketing waits for an agent) or None (no record)."""
    with connection.cursor() as cursor:
        cursor.execute(STATE_SQL, {"customer": customer_id, "topic": topic, "channel": channel})
        row = cursor.fetchone()
    return row[0] if row else None


def proof_for(kind: str, value: str) -> list[ConsentRecord]:
    """Every ledger row of this address (also as its keyed hash, after an erasure), and of
    the customer who holds it, oldest first."""
    customers = Identity.objects.filter(kind=kind, value=value).values("customer_id")
    hashed = "hmac:" + suppression.digest(kind, value)
    return list(
        ConsentRecord.objects.filter(
            Q(address_kind=kind, address__in=[value, hashed]) | Q(customer_id__in=customers)
        ).order_by("occurred_at", "pk")
    )


def erase_addresses(customer_ids: list[int]) -> int:
    """The ledger keeps what was agreed to and when; the address becomes its keyed hash
    (so `consent_proof` still finds it for whoever holds the number), the client goes."""
    changed = 0
    rows = ConsentRecord.objects.filter(customer_id__in=customer_ids).exclude(
        Q(address="") | Q(address__startswith="hmac:"), ip=None, user_agent=""
    )
    for record in rows.only("pk", "address_kind", "address"):
        hashed = record.address
        if hashed and not hashed.startswith("hmac:"):
            hashed = "hmac:" + suppression.digest(record.address_kind, record.address)
        changed += ConsentRecord.objects.filter(pk=record.pk).update(
            address=hashed, ip=None, user_agent=""
        )
    return changed
