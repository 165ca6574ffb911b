"""The engagement arbiter's gate (setting ENGAGEMENT_GATES): the customer's preferences
and the consent ledger (docs/privacy.md, docs/compliance.md).

One query per candidate channel, as before the ledger: the preference row and the
ledger's latest statement are read together.

- a topic the customer turned off on this channel: suppressed ("preference");
- a marketing topic (ENGAGEMENT_CONSENT_TOPICS) by text needs prior express written
  consent with its proof: the latest ledger statement for it must be a grant
  ("no consent proof" when there is none);
- a possible revocation waiting for an agent, or a revocation, halts marketing on every
  channel ("revocation under review", "consent revoked").
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import connection

from conversations.identities import live_customer
from conversations.models import Customer

from .ledger import STATE_SQL

REASON = "preference"  # what insights groups suppressions by (the part before the colon)
NO_PROOF = "no consent proof"
UNDER_REVIEW = "revocation under review"
REVOKED = "consent revoked"
# Channels on which marketing needs a written consent on record (TCPA; email: CAN-SPAM
# does not, but GDPR/PECR do for Europe, and the ledger is where that proof will live).
PROOF_CHANNELS = ("sms", "whatsapp", "email")

_GATE_SQL = f"""
SELECT EXISTS (
    SELECT 1 FROM privacy_preference p WHERE p.customer_id = %(customer)s
        AND p.topic = %(topic)s AND p.channel = %(channel)s AND NOT p.allowed
), ({STATE_SQL})
"""  # noqa: S608 (constant SQL, parameters bound)


def gate(customer: Customer, *, topic: str, channel: str, now: datetime) -> str | None:
    """Why not, when the customer turned this topic off on this channel or marketing lacks
    its consent on record; else None."""
    if customer.merged_into_id is not None:
        customer = live_customer(customer)
    with connection.cursor() as cursor:
        cursor.execute(_GATE_SQL, {"customer": customer.pk, "topic": topic, "channel": channel})
        off, state = cursor.fetchone()
    label = topic.replace("_", " ")
    if off:
        return f"{REASON}: {label} off by {channel}"
    if topic not in settings.ENGAGEMENT_CONSENT_TOPICS:
        return None
    if state == "flagged":
        return f"{UNDER_REVIEW}: the customer may have asked us to stop"
    if state == "revoked":
        return f"{REVOKED}: {label} by {channel}"
    if state is None and channel in PROOF_CHANNELS:
        return f"{NO_PROOF}: {label} by {channel} needs a consent record with its proof"
    return None
