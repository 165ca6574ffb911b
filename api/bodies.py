"""What the API's requests may hold, as types: they validate each request and, through
django-ninja, write the OpenAPI document's request schemas (docs/api.md, "Errors").

The event payloads are commerce's (`commerce.validation`); this module adds who the event
is about (`customer`) and the bodies of the other endpoints. A customer reference is
normalised while it is validated, so a view gets `Reference`s it can look up.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Annotated, Any

from pydantic import ConfigDict, Discriminator, Field, field_validator, model_validator

from base.inputs import unstorable
from commerce import validation as commerce
from commerce.fields import IDENTIFIER, Text, refuse
from conversations.identities import InvalidIdentity, normalize_identity
from conversations.models import Identity
from conversations.visitors import InvalidVisitorToken, read_visitor_token

from .references import Reference

MAX_EVENTS = 500
_IDENTIFIER = re.compile(IDENTIFIER)
MAX_IDENTITY = 254  # the identity column
# body key -> identity kind
REFERENCE_KINDS = {
    "external_id": Identity.Kind.EXTERNAL,
    "email": Identity.Kind.EMAIL,
    "phone": Identity.Kind.PHONE,
    "visitor_token": Identity.Kind.VISITOR,
}


def _reference_field(description: str, **schema: str) -> Any:
    # The string formats "phone" and "visitor-token" are ours: libphonenumber and our
    # signature decide them, which no pattern can say (tests/api/test_schemathesis.py
    # tells the fuzzer how to make valid ones).
    return Field(
        None,
        json_schema_extra={
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_IDENTITY,
            "description": description,
            **schema,
        },
    )


class CustomerReference(commerce.Body):
    """Exactly one of external_id, email, phone, visitor_token; `name` is used when the
    customer is new. Validation normalises the one given (`reference`)."""

    model_config = ConfigDict(
        json_schema_extra=lambda schema: _exactly_one_of(schema, list(REFERENCE_KINDS))
    )

    external_id: str | None = _reference_field("Your own customer id.", pattern=IDENTIFIER)
    email: str | None = _reference_field(
        "Case and surrounding spaces do not matter.", format="email"
    )
    phone: str | None = _reference_field(
        "A phone number, best in E.164 (+14155550123).", format="phone"
    )
    visitor_token: str | None = _reference_field(
        "The signed token the web widget issued to the browser.", format="visitor-token"
    )
    name: Text(200) = ""

    @field_validator(*REFERENCE_KINDS, mode="plain")
    @classmethod
    def _normalised(cls, value: object, info) -> str:
        if not isinstance(value, str) or not value or len(value) > MAX_IDENTITY:
            raise refuse(f"must be a string of 1 to {MAX_IDENTITY} characters.")
        why = unstorable(value)
        if why is not None:
            raise refuse(f"{why}.")
        if info.field_name == "external_id" and not _IDENTIFIER.match(value):
            raise refuse("must not hold control characters nor start or end with a space.")
        if info.field_name == "visitor_token":
            try:
                value = read_visitor_token(value)
            except InvalidVisitorToken as exc:
                raise refuse(str(exc)) from None
        try:
            _, normal = normalize_identity(REFERENCE_KINDS[info.field_name], value)
        except InvalidIdentity as exc:
            raise refuse(str(exc)) from None
        return normal

    @model_validator(mode="after")
    def _exactly_one(self):
        given = [key for key in REFERENCE_KINDS if getattr(self, key) is not None]
        if len(given) != 1:
            raise refuse(
                f"must give exactly one of {', '.join(REFERENCE_KINDS)} (got {len(given)})."
            )
        return self

    @property
    def reference(self) -> Reference:
        key = next(key for key in REFERENCE_KINDS if getattr(self, key) is not None)
        return Reference(REFERENCE_KINDS[key], getattr(self, key), self.name.strip())


def _exactly_one_of(schema: dict, keys: list[str]) -> None:
    """The schema of a model whose optional keys are exclusive: no nulls, one key."""
    for key in keys:
        prop = schema["properties"][key]
        prop.pop("default", None)
        if "anyOf" in prop:  # `X | None`: null is how Python says "left out", not a value
            prop.update(next(s for s in prop.pop("anyOf") if s.get("type") != "null"))
    schema["oneOf"] = [{"required": [key]} for key in keys]


# ---------------------------------------------------------------------------- events


class _About(commerce.Body):
    """Who the event is about, and a consent box they ticked with it (optional). Listed
    first among an event's bases, so its `commerce_event` wraps the type's own."""

    customer: CustomerReference
    consent: commerce.ConsentGiven | None = Field(
        None, description="A consent box the customer ticked, with its proof (docs/api.md)."
    )

    def commerce_event(self) -> commerce.CommerceEvent:
        event = super().commerce_event()  # type: ignore[misc]  # the event type's, next in line
        if self.consent is None:
            return event
        return dataclasses.replace(event, consent=self.consent.normalised())


class PageViewedIn(_About, commerce.PageViewedEvent):
    pass


class ProductViewedIn(_About, commerce.ProductViewedEvent):
    pass


class CartUpdatedIn(_About, commerce.CartUpdatedEvent):
    pass


class CheckoutStartedIn(_About, commerce.CheckoutStartedEvent):
    pass


class OrderPlacedIn(_About, commerce.OrderPlacedEvent):
    pass


EventIn = Annotated[
    PageViewedIn | ProductViewedIn | CartUpdatedIn | CheckoutStartedIn | OrderPlacedIn,
    Discriminator("type"),
]


class EventBatch(commerce.Body):
    """1 to 500 events; all or nothing: one invalid event refuses the batch."""

    events: Annotated[list[EventIn], Field(min_length=1, max_length=MAX_EVENTS)]


# ---------------------------------------------------------------------------- messages


HTTPS_URL = r"^https://[^\u0000]+$"
HttpsUrl = Annotated[str, Field(pattern=HTTPS_URL, max_length=2000)]


class MessageIn(commerce.Body):
    """A message to an existing customer; `channel` is one Throughline can send on."""

    customer: CustomerReference
    channel: Text(16, min_length=1, required="is required, e.g. sms.") = Field(examples=["sms"])
    body: Text(1600) = ""
    to: Text(MAX_IDENTITY) | None = Field(None, description="One of the customer's addresses.")
    media_urls: Annotated[list[HttpsUrl], Field(max_length=10)] = []

    @field_validator("media_urls", mode="before")
    @classmethod
    def _https_only(cls, value: object) -> object:
        if isinstance(value, list) and not all(
            isinstance(url, str) and len(url) <= 2000 and re.match(HTTPS_URL, url) for url in value
        ):
            raise refuse("must be a list of https URLs.")
        return value
