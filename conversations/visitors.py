"""Anonymous widget visitors: server-issued, signed visitor tokens.

The browser keeps the token; the widget socket and the widget's HTTP calls present it.
The token names a `visitor` identity only: it proves "this browser was given this id
by us", never who the person is, so on its own it never merges anything.
"""

import secrets

from django.core import signing

SALT = "throughline.visitor"
MAX_AGE = 60 * 60 * 24 * 400  # about 13 months, as long as a first-party cookie may live


class InvalidVisitorToken(ValueError):
    """Forged, altered or expired: callers answer 403 (HTTP) or close the socket."""


def new_visitor_id() -> str:
    return "v_" + secrets.token_urlsafe(16)


def issue_visitor_token(visitor_id: str) -> str:
    return signing.dumps({"v": visitor_id}, salt=SALT, compress=False)


def read_visitor_token(token: str) -> str:
    """The visitor id inside a valid token."""
    try:
        payload = signing.loads(str(token), salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:
        raise InvalidVisitorToken("Invalid or expired visitor token.") from None
    visitor_id = payload.get("v") if isinstance(payload, dict) else None
    if not isinstance(visitor_id, str) or not visitor_id:
        raise InvalidVisitorToken("Invalid visitor token.")
    return visitor_id
