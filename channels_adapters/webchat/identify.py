"""`Throughline.identify(...)`: the shop's servers vouch for a signed-in shopper.

Two schemes (docs/widget.md):

- `jwt`: an HS256 JWT signed with the site's secret, `exp` required and at most
  MAX_JWT_LIFETIME ahead; its `sub` (or `user_id`), `email` and `phone` claims are all
  vouched for, and its `name` claim names the customer (conversations/names.py, source
  `identify`). The recommended scheme (Intercom's current one).
- `hash`: HMAC-SHA256 of the user id with the site's secret, hex (Intercom's and
  Chatwoot's former scheme); it vouches for the user id only and never expires, so a
  site must switch it on (`identify_hash_enabled`).

A valid claim links the identities to the visitor's customer with `link_identity`, which
merges histories when another customer already has one of them. An invalid claim links
and merges nothing and raises `IdentifyError` with a message for the shop's developer.
Unsigned extras (an email next to a `hash`) are ignored.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass

import jwt

from conversations.identities import InvalidIdentity, link_identity, normalize_identity
from conversations.models import Customer, Identity
from conversations.names import offer_name

from .inbound import visitor_customer
from .models import Site

MAX_JWT_LIFETIME = 24 * 60 * 60  # seconds: "short-lived"; a token valid for longer is refused
JWT_LEEWAY = 30  # seconds of clock skew between the shop's servers and ours


class IdentifyError(ValueError):
    """The claim cannot be trusted; nothing was linked. The message says why."""


@dataclass(frozen=True)
class Claims:
    user_id: str = ""
    email: str = ""
    phone: str = ""
    name: str = ""


def user_hash(secret: str, user_id: str) -> str:
    """What the shop's server computes for the `hash` scheme."""
    return hmac.new(secret.encode(), str(user_id).encode(), hashlib.sha256).hexdigest()


def verify_hash(site: Site, user_id: str, given: str) -> Claims:
    if not site.identify_hash_enabled:
        raise IdentifyError(
            "This site does not accept `hash`; send a `jwt` signed with the site's secret."
        )
    if not user_id:
        raise IdentifyError("`hash` signs the user id: send `userId` with it.")
    if not hmac.compare_digest(user_hash(site.secret, user_id), str(given).strip().lower()):
        raise IdentifyError("`hash` is not the HMAC-SHA256 of `userId` with this site's secret.")
    return Claims(user_id=str(user_id))


def verify_jwt(site: Site, token: str) -> Claims:
    try:
        payload = jwt.decode(
            str(token),
            site.secret,
            algorithms=["HS256"],
            options={"require": ["exp"]},
            leeway=JWT_LEEWAY,
        )
    except jwt.ExpiredSignatureError:
        raise IdentifyError("The `jwt` has expired; sign a fresh one for each page.") from None
    except jwt.MissingRequiredClaimError:
        raise IdentifyError("The `jwt` needs an `exp` claim (a short expiry).") from None
    except jwt.InvalidTokenError as exc:
        raise IdentifyError(
            f"The `jwt` is not valid for this site (HS256 with its secret): {exc}"
        ) from None
    if payload["exp"] > time.time() + MAX_JWT_LIFETIME + JWT_LEEWAY:
        raise IdentifyError("The `jwt` lives too long: `exp` may be at most 24 hours ahead.")
    claims = Claims(
        user_id=str(payload.get("sub") or payload.get("user_id") or ""),
        email=str(payload.get("email") or ""),
        phone=str(payload.get("phone") or ""),
        name=str(payload.get("name") or ""),
    )
    if not (claims.user_id or claims.email or claims.phone):
        raise IdentifyError("The `jwt` names nobody: give `sub`, `email` or `phone`.")
    return claims


def verify(site: Site, request: dict) -> Claims:
    """The claims a widget's identify call proves, or IdentifyError."""
    if request.get("jwt"):
        return verify_jwt(site, request["jwt"])
    if request.get("hash"):
        return verify_hash(site, str(request.get("userId") or ""), request["hash"])
    raise IdentifyError("identify needs a `jwt` (or, where the site allows it, a `hash`).")


def identify_visitor(*, site: Site, visitor_id: str, request: dict) -> Customer:
    """Link what the claim proves to the visitor's customer; return who holds the
    conversation afterwards (the older customer, when histories merged)."""
    claims = verify(site, request)
    identities = [
        (kind, value)
        for kind, value in [
            (Identity.Kind.EXTERNAL, claims.user_id),
            (Identity.Kind.EMAIL, claims.email),
            (Identity.Kind.PHONE, claims.phone),
        ]
        if value
    ]
    try:  # check every value before linking any, so a bad one links nothing
        identities = [normalize_identity(kind, value) for kind, value in identities]
    except InvalidIdentity as exc:
        raise IdentifyError(str(exc)) from None
    customer = visitor_customer(visitor_id)
    for kind, value in identities:
        customer = link_identity(customer, kind, value, verified=True)
    if claims.name:
        offer_name(customer, claims.name, source="identify")
    return customer
