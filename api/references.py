"""Customer references: how API callers name a customer, and finding the customer.

In a body, a `customer` object (validated and normalised by `bodies.CustomerReference`).
In a URL, our numeric customer id, or `external:<id>`, `email:<address>`, `phone:<number>`.
"""

from __future__ import annotations

from dataclasses import dataclass

from base.inputs import ascii_int, unstorable
from conversations.identities import InvalidIdentity, live_customer, normalize_identity
from conversations.models import Customer, Identity

from .errors import ApiError

PATH_KINDS = {"external": Identity.Kind.EXTERNAL, "email": Identity.Kind.EMAIL, "phone": "phone"}


@dataclass(frozen=True)
class Reference:
    kind: str
    value: str  # normalised
    name: str = ""


def find(reference: Reference) -> Customer:
    """The existing customer with this identity; 404 if there is none. Creates nothing."""
    identity = (
        Identity.objects.filter(kind=reference.kind, value=reference.value)
        .select_related("customer__conversation")
        .first()
    )
    if identity is None:
        raise ApiError(404, "not_found", "No customer has this identity.")
    return _survivor(identity.customer)


def _survivor(customer: Customer) -> Customer:
    """The customer that holds the conversation now (just read, so not stale)."""
    if customer.merged_into_id is None:
        return customer
    return live_customer(customer)


def find_in_path(text: str) -> Customer:
    """`{id}` in a URL: `123`, `external:abc`, `email:a@b.example`, `phone:+14155550123`.

    What names no customer is a 404, whatever its form: a number of non-ASCII digits
    ("³"), an identity that cannot be one (`phone:abc`), a NUL.
    """
    number = ascii_int(text, low=1)
    if number is not None:
        customer = Customer.objects.select_related("conversation").filter(pk=number).first()
        if customer is None:
            raise ApiError(404, "not_found", f"No customer {number}.")
        return _survivor(customer)  # a merged customer's id still finds the conversation
    prefix, _, value = text.partition(":")
    if prefix not in PATH_KINDS or not value or unstorable(value) or len(value) > 254:
        raise ApiError(
            404,
            "not_found",
            "A customer is named by its id or by external:<id>, email:<address> or phone:<number>.",
        )
    try:
        kind, value = normalize_identity(PATH_KINDS[prefix], value)
    except InvalidIdentity:
        raise ApiError(
            404, "not_found", f"No customer has this {prefix} (it cannot be one)."
        ) from None
    return find(Reference(kind, value))
