"""Customer references: how API callers name a customer.

In a body, a `customer` object with exactly one of `external_id`, `email`, `phone` or
`visitor_token` (and optionally `name`, used when the customer is new). In a URL, our
numeric customer id, or `external:<id>`, `email:<address>`, `phone:<number>`.
"""

from __future__ import annotations

from dataclasses import dataclass

from conversations.identities import (
    InvalidIdentity,
    live_customer,
    normalize_identity,
)
from conversations.models import Customer, Identity
from conversations.visitors import InvalidVisitorToken, read_visitor_token

from .errors import ApiError, invalid

# body key -> identity kind
REFERENCE_KINDS = {
    "external_id": Identity.Kind.EXTERNAL,
    "email": Identity.Kind.EMAIL,
    "phone": Identity.Kind.PHONE,
    "visitor_token": Identity.Kind.VISITOR,
}
PATH_KINDS = {"external": Identity.Kind.EXTERNAL, "email": Identity.Kind.EMAIL, "phone": "phone"}


@dataclass(frozen=True)
class Reference:
    kind: str
    value: str  # normalised
    name: str = ""


def parse_reference(data, where: str = "customer") -> Reference:
    """Check a `customer` object; raise ApiError naming the field. Creates nothing."""
    if not isinstance(data, dict):
        raise invalid(
            where,
            "must be an object with one of " + ", ".join(REFERENCE_KINDS) + ".",
        )
    unknown = set(data) - set(REFERENCE_KINDS) - {"name"}
    if unknown:
        raise invalid(f"{where}.{sorted(unknown)[0]}", "is not a customer reference field.")
    given = [key for key in REFERENCE_KINDS if data.get(key) not in (None, "")]
    if len(given) != 1:
        raise invalid(
            where,
            "must give exactly one of " + ", ".join(REFERENCE_KINDS) + f" (got {len(given)}).",
        )
    key = given[0]
    raw = data[key]
    if not isinstance(raw, str):
        raise invalid(f"{where}.{key}", "must be a string.")
    name = data.get("name") or ""
    if not isinstance(name, str) or len(name) > 200:
        raise invalid(f"{where}.name", "must be a string of at most 200 characters.")
    if key == "visitor_token":
        try:
            raw = read_visitor_token(raw)
        except InvalidVisitorToken as exc:
            raise invalid(f"{where}.{key}", str(exc)) from None
    try:
        kind, value = normalize_identity(REFERENCE_KINDS[key], raw)
    except InvalidIdentity as exc:
        raise invalid(f"{where}.{key}", str(exc)) from None
    return Reference(kind, value, name.strip())


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
    """`{id}` in a URL: `123`, `external:abc`, `email:a@b.example`, `phone:+14155550123`."""
    if text.isdigit():
        customer = Customer.objects.select_related("conversation").filter(pk=int(text)).first()
        if customer is None:
            raise ApiError(404, "not_found", f"No customer {text}.")
        return _survivor(customer)  # a merged customer's id still finds the conversation
    prefix, _, value = text.partition(":")
    if prefix not in PATH_KINDS or not value:
        raise ApiError(
            404,
            "not_found",
            "A customer is named by its id or by external:<id>, email:<address> or phone:<number>.",
        )
    try:
        kind, value = normalize_identity(PATH_KINDS[prefix], value)
    except InvalidIdentity as exc:
        raise invalid("id", str(exc)) from None
    return find(Reference(kind, value))
