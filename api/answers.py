"""What the API answers, as types: the OpenAPI document's response schemas.

The views build their JSON with `representations.py` (fast, no re-validation on the hot
path); every API test checks each answer against the document these types generate
(tests/api/conftest.py), and schemathesis does too, so the two cannot drift apart.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Money = str  # "1299.00"
MONEY = Field(pattern=r"^\d+\.\d{2}$", examples=["1299.00"])


class Problem(BaseModel):
    index: int
    field: str | None
    message: str


class ErrorBody(BaseModel):
    code: str = Field(examples=["invalid", "unauthenticated", "rate_limited"])
    message: str
    field: str | None = Field(None, description="Where: e.g. events[3].payload.items[0].price")
    details: list[Problem] | None = Field(
        None, description="One entry per invalid event of a batch."
    )


class Error(BaseModel):
    """Every error: `{"error": {"code", "message", "field"?, "details"?}}`."""

    error: ErrorBody


class Result(BaseModel):
    index: int
    event_id: str
    status: Literal["accepted", "duplicate"]
    customer: int
    seq: int


class BatchResult(BaseModel):
    accepted: int
    duplicates: int
    results: list[Result]


class Event(BaseModel):
    id: int
    seq: int = Field(description="Gap-free position in the timeline.")
    occurred_at: str = Field(json_schema_extra={"format": "date-time"})
    channel: Literal["web", "sms", "voice", "instore", "api", "system", "agent"]
    direction: Literal["in", "out", "internal"]
    kind: str = Field(examples=["message", "page_view", "cart", "order"])
    body: str
    data: dict
    delivery_status: str | None = None
    case: int | None = None
    source_id: str | None = None


class Timeline(BaseModel):
    customer: int
    last_seq: int
    events: list[Event]
    has_more: bool
    next_after: int | None
    next: str | None


class CartLine(BaseModel):
    sku: str
    name: str
    quantity: int
    unit_price: Money = MONEY


class Cart(BaseModel):
    id: int
    status: Literal["open", "checkout"]
    currency: str
    value: Money = MONEY
    item_count: int
    items: list[CartLine]
    updated_at: str | None = Field(None, json_schema_extra={"format": "date-time"})


class IdentityOut(BaseModel):
    kind: Literal["phone", "email", "visitor", "external", "whatsapp", "short_code", "alphanumeric"]
    value: str
    verified: bool
    opted_out: bool


class OpenCase(BaseModel):
    id: int
    status: str
    intent: str | None = None
    priority: int | None = None
    opened_at: str | None = Field(None, json_schema_extra={"format": "date-time"})


class ProductSeen(BaseModel):
    sku: str
    name: str
    url: str | None = None
    views: int
    last_viewed_at: str = Field(json_schema_extra={"format": "date-time"})


class LastOrder(BaseModel):
    order_id: str
    currency: str
    total: Money = MONEY
    placed_at: str = Field(json_schema_extra={"format": "date-time"})
    delivered_at: str | None = Field(None, json_schema_extra={"format": "date-time"})


class Intent(BaseModel):
    kind: Literal["evaluating", "cart", "checkout"]


class Customer(BaseModel):
    """The customer's context now; commerce adds the cart, products, order and intent."""

    id: int
    name: str
    created_at: str | None = Field(None, json_schema_extra={"format": "date-time"})
    identities: list[IdentityOut]
    consent: dict[str, bool]
    channels_used: list[str]
    last_channel: str | None = None
    last_seq: int | None = None
    open_case: OpenCase | None = None
    open_cart: Cart | None = None
    cart_value: Money | None = Field(None, pattern=r"^\d+\.\d{2}$")
    products_viewed: list[ProductSeen] | None = None
    last_order: LastOrder | None = None
    current_intent: Intent | None = None
    greeting: str = Field(description="What the widget would open with for this customer now.")


class MessageQueued(BaseModel):
    customer: int
    event: Event
