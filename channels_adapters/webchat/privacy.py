"""What the widget holds about a person, for privacy's erasure (docs/privacy.md).

Declared on webchat's AppConfig as an `erasure_hooks` plug. "Continue by SMS" keeps one
row per code sent (PhoneVerification), keyed by the visitor id and the phone number: both
go with the customer. The hook runs before the erasure deletes the identities it reads.
"""

from __future__ import annotations

from conversations.models import Customer, Identity

from .models import PhoneVerification


def erase(customer: Customer, counts: dict[str, int]) -> None:
    identities = Identity.objects.filter(customer=customer)
    visitor_ids = identities.filter(kind=Identity.Kind.VISITOR).values_list("value", flat=True)
    phones = identities.filter(kind=Identity.Kind.PHONE).values_list("value", flat=True)
    counts["phone verifications"] = (
        PhoneVerification.objects.filter(visitor_id__in=list(visitor_ids)).delete()[0]
        + PhoneVerification.objects.filter(phone__in=list(phones)).delete()[0]
    )
