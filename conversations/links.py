"""Signed links to the customer's own pages: `/c/<token>/<page>/` (DESIGN.md, public URLs).

A link names one customer and one page (its purpose: "preferences", "callback"…) and
expires. It is sent in messages (SMS, widget), so it carries no personal data, only the
customer's id, signed with SECRET_KEY; a link made for one page never opens another.
Each app that owns a page routes `c/<str:token>/<page>/` to its view and calls
`customer_from` first.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing

from conversations.identities import live_customer
from conversations.models import Customer

SALT = "throughline.customer-link"
MAX_AGE = timedelta(days=30)


class BadLink(Exception):
    """The link is forged, expired, for another page, or its customer is gone."""


def token_for(customer: Customer, page: str) -> str:
    return signing.dumps({"c": customer.pk, "p": page}, salt=SALT, compress=False)


def url_for(customer: Customer, page: str) -> str:
    """The absolute URL (PUBLIC_BASE_URL) of the customer's page, for messages."""
    return f"{settings.PUBLIC_BASE_URL}/c/{token_for(customer, page)}/{page}/"


def customer_from(token: str, page: str, *, max_age: timedelta = MAX_AGE) -> Customer:
    """The customer the link was made for, following merges; BadLink otherwise."""
    try:
        payload = signing.loads(str(token), salt=SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise BadLink("This link has expired. Ask us for a new one.") from None
    except signing.BadSignature:
        raise BadLink("This link is not valid.") from None
    if not isinstance(payload, dict) or payload.get("p") != page:
        raise BadLink("This link is not valid.")
    customer_id = payload.get("c")
    if not isinstance(customer_id, int):
        raise BadLink("This link is not valid.")
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None:
        raise BadLink("This link is not valid.")
    return live_customer(customer)
