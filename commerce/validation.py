"""Validating the shop's events: raw fields in, a `CommerceEvent` or `InvalidEvent` out.

`validate_event` checks and normalises one event (decimal strings, upper-case currency);
an `InvalidEvent` names the field (e.g. `payload.items[0].price`) for the API's 400.
docs/api.md describes the payloads.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.utils import timezone
from django.utils.dateparse import parse_datetime

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
MAX_TEXT = 300
MAX_URL = 2000
MAX_PRICE = Decimal("9999999999.99")  # MONEY: 12 digits, 2 decimals
# Clocks drift; an event stamped further ahead than this is a bug on the sender's side.
MAX_CLOCK_SKEW = timedelta(minutes=5)
_CURRENCY = re.compile(r"^[A-Z]{3}$")


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

    @property
    def kind(self) -> str:
        return KINDS[self.type]


# ---------------------------------------------------------------------------- validating


def validate_event(*, event_id, type, payload, occurred_at=None) -> CommerceEvent:
    """Check and normalise one event's fields; raise `InvalidEvent` on the first problem."""
    if not isinstance(event_id, str) or not event_id.strip():
        raise InvalidEvent("event_id", "is required: a non-empty string unique to this event.")
    event_id = event_id.strip()
    if len(event_id) > MAX_EVENT_ID:
        raise InvalidEvent("event_id", f"must be at most {MAX_EVENT_ID} characters.")
    if type not in KINDS:
        raise InvalidEvent("type", f"must be one of {', '.join(KINDS)}; got {type!r}.")
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        raise InvalidEvent("payload", "must be an object.")
    return CommerceEvent(
        event_id=event_id,
        type=type,
        payload=_PAYLOADS[type](payload),
        occurred_at=_occurred_at(occurred_at),
    )


def _occurred_at(value) -> datetime | None:
    if value is None:
        return None
    parsed = value if isinstance(value, datetime) else None
    if isinstance(value, str):
        try:
            parsed = parse_datetime(value)
        except ValueError:
            parsed = None
    if parsed is None:
        raise InvalidEvent("occurred_at", "must be an ISO 8601 date-time, e.g. 2025-05-01T12:00Z.")
    if timezone.is_naive(parsed):
        raise InvalidEvent("occurred_at", "must include a time zone (Z or +hh:mm).")
    if parsed > timezone.now() + MAX_CLOCK_SKEW:
        raise InvalidEvent("occurred_at", "is in the future.")
    return parsed


def _text(data: dict, key: str, where: str, *, required: bool, limit: int = MAX_TEXT) -> str:
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise InvalidEvent(f"{where}{key}", "is required.")
        return ""
    if not isinstance(value, str):
        raise InvalidEvent(f"{where}{key}", "must be a string.")
    value = value.strip()
    if required and not value:
        raise InvalidEvent(f"{where}{key}", "is required.")
    if len(value) > limit:
        raise InvalidEvent(f"{where}{key}", f"must be at most {limit} characters.")
    return value


def _url(data: dict, key: str, where: str, *, required: bool = False) -> str:
    value = _text(data, key, where, required=required, limit=MAX_URL)
    if value and not value.startswith(("https://", "http://", "/")):
        raise InvalidEvent(f"{where}{key}", "must be an http(s) URL or a path starting with /.")
    return value


def _price(data: dict, key: str, where: str, *, required: bool) -> str | None:
    """A money amount as a decimal string with at most 2 decimals ("1299.00")."""
    value = data.get(key)
    if value is None:
        if required:
            raise InvalidEvent(f"{where}{key}", "is required.")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InvalidEvent(f"{where}{key}", 'must be a number or a decimal string ("19.99").')
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidEvent(f"{where}{key}", "must be a finite number.")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise InvalidEvent(
            f"{where}{key}", 'must be a number or a decimal string ("19.99").'
        ) from None
    if not amount.is_finite():
        raise InvalidEvent(f"{where}{key}", "must be a finite number.")
    if amount < 0:
        raise InvalidEvent(f"{where}{key}", "must not be negative.")
    if amount != amount.quantize(Decimal("0.01")):
        raise InvalidEvent(f"{where}{key}", "must have at most 2 decimal places.")
    if amount > MAX_PRICE:
        raise InvalidEvent(f"{where}{key}", f"must be at most {MAX_PRICE}.")
    return str(amount.quantize(Decimal("0.01")))


def _currency(data: dict, where: str, *, required: bool) -> str:
    value = data.get("currency")
    if value is None or value == "":
        if required:
            raise InvalidEvent(f"{where}currency", "is required: an ISO 4217 code such as USD.")
        return ""
    if not isinstance(value, str) or not _CURRENCY.match(value.strip().upper()):
        raise InvalidEvent(f"{where}currency", "must be an ISO 4217 code such as USD.")
    return value.strip().upper()


def _quantity(data: dict, where: str) -> int:
    value = data.get("quantity", 1)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10_000:
        raise InvalidEvent(f"{where}quantity", "must be a whole number from 1 to 10000.")
    return value


def _items(payload: dict, *, required: bool) -> list[dict]:
    items = payload.get("items")
    if items is None:
        if required:
            raise InvalidEvent("payload.items", "is required: a list of lines.")
        return []
    if not isinstance(items, list):
        raise InvalidEvent("payload.items", "must be a list.")
    if len(items) > MAX_ITEMS:
        raise InvalidEvent("payload.items", f"must have at most {MAX_ITEMS} lines.")
    lines = []
    for n, item in enumerate(items):
        where = f"payload.items[{n}]."
        if not isinstance(item, dict):
            raise InvalidEvent(f"payload.items[{n}]", "must be an object.")
        lines.append(
            {
                "sku": _text(item, "sku", where, required=True, limit=128),
                "name": _text(item, "name", where, required=True),
                "quantity": _quantity(item, where),
                "unit_price": _price(item, "price", where, required=True),
            }
        )
    return lines


def _total(lines: list[dict]) -> str:
    return str(sum((Decimal(li["unit_price"]) * li["quantity"] for li in lines), Decimal("0.00")))


def _page_viewed(payload: dict) -> dict:
    return {
        "url": _url(payload, "url", "payload.", required=True),
        "title": _text(payload, "title", "payload.", required=False),
        "referrer": _url(payload, "referrer", "payload."),
    }


def _product_viewed(payload: dict) -> dict:
    needs_assembly = payload.get("needs_assembly")  # None: not said, so not changed
    if needs_assembly is not None and not isinstance(needs_assembly, bool):
        raise InvalidEvent("payload.needs_assembly", "must be true or false.")
    return {
        "sku": _text(payload, "sku", "payload.", required=True, limit=128),
        "name": _text(payload, "name", "payload.", required=True),
        "price": _price(payload, "price", "payload.", required=False),
        "currency": _currency(payload, "payload.", required=payload.get("price") is not None),
        "url": _url(payload, "url", "payload."),
        "image": _url(payload, "image", "payload."),
        "needs_assembly": needs_assembly,
    }


def _cart_updated(payload: dict) -> dict:
    lines = _items(payload, required=True)
    value = _price(payload, "value", "payload.", required=False)  # after the shop's discounts
    return {
        "cart_id": _text(payload, "cart_id", "payload.", required=False, limit=128),
        "currency": _currency(payload, "payload.", required=True),
        "items": lines,
        "item_count": sum(li["quantity"] for li in lines),
        "value": value if value is not None else _total(lines),
    }


def _checkout_started(payload: dict) -> dict:
    return {"cart_id": _text(payload, "cart_id", "payload.", required=False, limit=128)}


def _order_placed(payload: dict) -> dict:
    lines = _items(payload, required=True)
    if not lines:
        raise InvalidEvent("payload.items", "must list at least one line.")
    total = _price(payload, "total", "payload.", required=False)
    return {
        "order_id": _text(payload, "order_id", "payload.", required=True, limit=128),
        "currency": _currency(payload, "payload.", required=True),
        "items": lines,
        "total": total if total is not None else _total(lines),
    }


_PAYLOADS = {
    "page_viewed": _page_viewed,
    "product_viewed": _product_viewed,
    "cart_updated": _cart_updated,
    "checkout_started": _checkout_started,
    "order_placed": _order_placed,
}
