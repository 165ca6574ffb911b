"""The shop's events as types: one declaration validates them and documents them.

The payload models below are what `POST /api/v1/events` and the widget's
`Throughline.track` accept; the API's OpenAPI document (`/api/schema/`) is generated from
them, so what the document says and what is accepted cannot drift apart. Every field is
bounded by a type of `commerce/fields.py` (lengths, no NUL, NFC, money's digits and
places, the timestamp window).

`validate_event` checks one event for callers outside the API (the widget, tests) and
returns the `CommerceEvent` that `commerce.ingest` consumes; an `InvalidEvent` names the
field (e.g. `payload.items[0].price`). docs/api.md describes the payloads and the bounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, ValidationError, model_validator

from privacy.models import CHANNELS, TOPICS

from .fields import (
    MAX_CLOCK_SKEW,  # noqa: F401  (re-exported: the window is part of this module's contract)
    MAX_MONEY,
    OLDEST,  # noqa: F401
    Currency,
    Identifier,
    IpAddress,
    Money,
    OptionalUrl,
    Quantity,
    Text,
    Timestamp,
    Url,
    problems,
    refuse,
)

# type -> the journal event's kind
KINDS = {
    "page_viewed": "page_view",
    "product_viewed": "product_view",
    "cart_updated": "cart",
    "checkout_started": "checkout",
    "order_placed": "order",
}
MAX_EVENT_ID = 128  # the journal's source_id column
MAX_ITEMS = 200  # lines in one cart or order
MAX_TEXT = 300  # the catalogue's name column
MAX_URL = 2000  # the catalogue's url and image columns
MAX_CODE = 128  # sku, cart and order ids: the commerce tables' columns


class InvalidEvent(ValueError):
    """A payload we cannot take: `field` says where (e.g. `payload.items[0].price`)."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class CommerceEvent:
    """A validated event: `payload` is normalised (decimal strings, upper-case currency)."""

    event_id: str
    type: str
    payload: dict
    occurred_at: datetime | None = None
    consent: ConsentGiven | None = None  # a consent box ticked with this event (the API's)

    @property
    def kind(self) -> str:
        return KINDS[self.type]


# ---------------------------------------------------------------------------- payloads


class Body(BaseModel):
    """A JSON object of a request: unknown keys are refused, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Payload(Body):
    """A payload's object: keys it does not know are ignored (never stored), as they always
    were, so a shop's extra properties do not break its events."""

    model_config = ConfigDict(extra="ignore")


class Line(Payload):
    """One line of a cart or an order; `price` is the unit price."""

    sku: Identifier(MAX_CODE)
    name: Text(MAX_TEXT, min_length=1)
    quantity: Quantity = 1
    price: Money


class PageViewed(Payload):
    url: Url
    title: Text(MAX_TEXT) | None = None
    referrer: OptionalUrl | None = None

    def normalised(self) -> dict:
        return {"url": self.url, "title": self.title or "", "referrer": self.referrer or ""}


class ProductViewed(Payload):
    """A product page seen; details left out are kept in the catalogue as they were."""

    model_config = ConfigDict(
        # a price means nothing without its currency
        json_schema_extra={
            "if": {"required": ["price"], "properties": {"price": {"not": {"type": "null"}}}},
            "then": {"required": ["currency"], "properties": {"currency": {"type": "string"}}},
        }
    )

    sku: Identifier(MAX_CODE)
    name: Text(MAX_TEXT, min_length=1)
    price: Money | None = None
    currency: Currency | None = None
    url: OptionalUrl | None = None
    image: OptionalUrl | None = None
    needs_assembly: bool | None = Field(None, strict=True)  # None: not said, so not changed

    @model_validator(mode="after")
    def _priced_in_a_currency(self):
        if self.price is not None and self.currency is None:
            raise refuse("is required with a price.", at="currency")
        return self

    def normalised(self) -> dict:
        return {
            "sku": self.sku,
            "name": self.name,
            "price": _money(self.price),
            "currency": self.currency or "",
            "url": self.url or "",
            "image": self.image or "",
            "needs_assembly": self.needs_assembly,
        }


class CartUpdated(Payload):
    """The whole cart as it is now (a snapshot, not a change)."""

    items: Annotated[list[Line], Field(max_length=MAX_ITEMS)]
    value: Money | None = None  # after the shop's discounts; the lines' sum when left out
    cart_id: Identifier(MAX_CODE) | None = None
    currency: Currency

    def normalised(self) -> dict:
        lines = _lines(self.items)
        return {
            "cart_id": self.cart_id or "",
            "currency": self.currency,
            "items": lines,
            "item_count": sum(line["quantity"] for line in lines),
            "value": _money(self.value) if self.value is not None else _total(lines),
        }


class CheckoutStarted(Payload):
    cart_id: Identifier(MAX_CODE) | None = None

    def normalised(self) -> dict:
        return {"cart_id": self.cart_id or ""}


class OrderPlaced(Payload):
    items: Annotated[list[Line], Field(min_length=1, max_length=MAX_ITEMS)]
    total: Money | None = None  # after discounts; the lines' sum when left out
    order_id: Identifier(MAX_CODE)
    currency: Currency
    # the name the order was placed under: the customer's name when she has none better
    # (conversations/names.py)
    customer_name: Text(MAX_TEXT) | None = None

    def normalised(self) -> dict:
        lines = _lines(self.items)
        return {
            "order_id": self.order_id,
            "currency": self.currency,
            "items": lines,
            "total": _money(self.total) if self.total is not None else _total(lines),
            **({"customer_name": self.customer_name} if self.customer_name else {}),
        }


def _money(amount: Decimal | None) -> str | None:
    return None if amount is None else str(amount)


def _lines(items: list[Line]) -> list[dict]:
    return [
        {"sku": li.sku, "name": li.name, "quantity": li.quantity, "unit_price": str(li.price)}
        for li in items
    ]


def _total(lines: list[dict]) -> str:
    """The lines' sum, which must fit the MONEY columns as any amount does.

    Each line is within bounds, but 200 lines of 10000 at the top price are not: that
    is no field's fault, so it is an `InvalidEvent` after validation (the API's 422).
    """
    total = sum((Decimal(li["unit_price"]) * li["quantity"] for li in lines), Decimal("0.00"))
    if total > MAX_MONEY:
        raise InvalidEvent(
            "payload.items", f"add up to more than {MAX_MONEY}: send the total yourself."
        )
    return str(total)


# ---------------------------------------------------------------------------- consent

MAX_CONSENT_TEXT = 1000
MAX_USER_AGENT = 500  # the ledger's column


class ConsentGiven(Body):
    """A consent box the customer ticked in the shop (at checkout, on an account page), with
    its proof, for the consent ledger (docs/api.md, "Consent"; docs/compliance.md)."""

    topics: Annotated[
        list[Literal[tuple(TOPICS)]],  # type: ignore[valid-type]  # the known topics
        Field(min_length=1, max_length=len(TOPICS)),
    ] = Field(description="What the box says the customer will get: " + ", ".join(TOPICS) + ".")
    channel: Literal[tuple(CHANNELS)] = Field(  # type: ignore[valid-type]
        description="How: sms (needs the customer's phone) or web."
    )
    text: Text(MAX_CONSENT_TEXT, min_length=1) = Field(
        description="Exactly the words shown beside the box."
    )
    text_version: Identifier(64) = Field(description="Your version of those words.")
    given_at: Timestamp | None = None
    ip: IpAddress | None = None
    user_agent: Text(MAX_USER_AGENT) = ""

    def normalised(self) -> ConsentGiven:
        # one ledger line per topic: a topic named twice is one
        return self.model_copy(update={"topics": list(dict.fromkeys(self.topics))})


# ---------------------------------------------------------------------------- events


class EventFields(Body):
    """What every event has, whoever sends it; each type below adds its payload."""

    TYPE: ClassVar[str]
    event_id: Identifier(
        MAX_EVENT_ID, required="is required: a non-empty string unique to this event."
    ) = Field(description="Unique per event: the same id again is accepted and ignored.")
    occurred_at: Timestamp | None = None

    def commerce_event(self) -> CommerceEvent:
        return CommerceEvent(
            event_id=self.event_id,
            type=self.TYPE,
            payload=self.payload.normalised(),  # type: ignore[attr-defined]  # each subclass has one
            occurred_at=self.occurred_at,
        )


class PageViewedEvent(EventFields):
    TYPE: ClassVar[str] = "page_viewed"
    type: Literal["page_viewed"]
    payload: PageViewed


class ProductViewedEvent(EventFields):
    TYPE: ClassVar[str] = "product_viewed"
    type: Literal["product_viewed"]
    payload: ProductViewed


class CartUpdatedEvent(EventFields):
    TYPE: ClassVar[str] = "cart_updated"
    type: Literal["cart_updated"]
    payload: CartUpdated


class CheckoutStartedEvent(EventFields):
    TYPE: ClassVar[str] = "checkout_started"
    type: Literal["checkout_started"]
    payload: CheckoutStarted | None = None

    def commerce_event(self) -> CommerceEvent:
        if self.payload is None:  # nothing to say: as if it were {}
            return self.model_copy(update={"payload": CheckoutStarted()}).commerce_event()
        return super().commerce_event()


class OrderPlacedEvent(EventFields):
    TYPE: ClassVar[str] = "order_placed"
    type: Literal["order_placed"]
    payload: OrderPlaced


EVENT_TYPES = (
    PageViewedEvent,
    ProductViewedEvent,
    CartUpdatedEvent,
    CheckoutStartedEvent,
    OrderPlacedEvent,
)
AnyEvent = Annotated[
    PageViewedEvent
    | ProductViewedEvent
    | CartUpdatedEvent
    | CheckoutStartedEvent
    | OrderPlacedEvent,
    Discriminator("type"),
]


class _OneEvent(BaseModel):
    event: AnyEvent


# ---------------------------------------------------------------------------- validating


def validate_event(*, event_id, type, payload, occurred_at=None) -> CommerceEvent:
    """Check and normalise one event's fields; raise `InvalidEvent` on the first problem."""
    fields: dict[str, Any] = {"event_id": event_id, "type": type, "payload": payload}
    if occurred_at is not None:
        fields["occurred_at"] = occurred_at
    try:
        checked = _OneEvent.model_validate({"event": fields})
    except ValidationError as error:
        field, message = problems(error, skip=1, noun="an event", tags=frozenset(KINDS))[0]
        raise InvalidEvent(field, message) from None
    return checked.event.commerce_event()  # InvalidEvent when its lines overflow
