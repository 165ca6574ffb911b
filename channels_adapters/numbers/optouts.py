"""Opt-outs by number: a STOP follows the number it was sent to.

The Twilio gate (twilio_signature.py) holds our number a webhook is about in
`webhooks.receiving` while the view runs; when that view records a consent statement
(STOP, START, a stop in words, the keypad's opt-out), this consent hook (a
`consent_hooks` plug, called inside the statement's transaction) notes the number beside
it (`NumberConsent`). The customer's consent itself stays the identity's, so a STOP sent
to one store's number still stops texts from every number (stricter than the carriers
ask; docs/twilio.md says why); `opted_out_numbers` is what the console shows per number.
"""

from __future__ import annotations

from conversations.models import Customer, Event, Identity

from .models import NumberConsent
from .webhooks import receiving

ACTIONS = ("opt_out", "opt_in")


def on_consent(event: Event, identity: Identity | None, proof) -> None:
    number = receiving.get()
    action = event.data.get("action")
    if number is None or identity is None or action not in ACTIONS:
        return
    NumberConsent.objects.get_or_create(
        event_id=event.pk,
        defaults={
            "number_id": number.pk,
            "identity_id": identity.pk,
            "action": action,
            "at": event.occurred_at,
        },
    )


def opted_out_numbers(customer: Customer) -> list[str]:
    """Our numbers the customer's identities last said STOP to (and no START since)."""
    identity_ids = Identity.objects.filter(customer_id=customer.pk).values("pk")
    latest: dict[tuple[int, int], tuple] = {}
    rows = (
        NumberConsent.objects.filter(identity_id__in=identity_ids)
        .order_by("at", "event_id")
        .values_list("identity_id", "number_id", "number__phone_number", "action")
    )
    for identity_id, number_id, address, action in rows:
        latest[(identity_id, number_id)] = (address, action)
    return sorted({address for address, action in latest.values() if action == "opt_out"})


def erase(customer: Customer, counts: dict[str, int]) -> None:
    """Privacy's erasure hook: the customer's per-number consent notes go with them."""
    identity_ids = list(Identity.objects.filter(customer=customer).values_list("pk", flat=True))
    counts["number consents"] = NumberConsent.objects.filter(identity_id__in=identity_ids).delete()[
        0
    ]
