"""The customer's own clock: their time zone, quiet hours, and the store they belong to.

The time zone comes, in order, from the customer's profile (`Customer.time_zone`), their
phone number (phonenumbers' geographic data, when it names exactly one zone), the main
zone of the state they are known to be in (jurisdictions.py), the store they last scanned
a code in, and finally ENGAGEMENT_DEFAULT_TIME_ZONE. ENGAGEMENT_SEND_WINDOW ("08:00-21:00")
is the shop's own window on that clock; the law's windows narrow it (jurisdictions.py).
"""

from __future__ import annotations

import zoneinfo
from datetime import time
from functools import cache

import phonenumbers
from django.conf import settings
from phonenumbers import timezone as phone_zones

from conversations.models import Customer, Identity
from instore.models import Scan, Store


def zone(name: str) -> zoneinfo.ZoneInfo | None:
    try:
        return zoneinfo.ZoneInfo(name) if name else None
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


@cache
def zone_of_number(number: str) -> str:
    """The one time zone of a phone number's area, or "" when it has none or several."""
    try:
        zones = phone_zones.time_zones_for_number(phonenumbers.parse(number))
    except phonenumbers.NumberParseException:
        return ""
    return zones[0] if len(zones) == 1 and zone(zones[0]) else ""


def customer_store(customer: Customer) -> Store | None:
    """The store the customer last scanned a code in, if any."""
    scan = (
        Scan.objects.filter(customer=customer)
        .select_related("store")
        .order_by("-scanned_at")
        .first()
    )
    return scan.store if scan else None


def newest_phone(customer: Customer) -> str:
    return (
        customer.identities.filter(kind=Identity.Kind.PHONE)
        .order_by("-created_at")
        .values_list("value", flat=True)
        .first()
        or ""
    )


UNKNOWN = object()  # `store=` not looked up yet


def customer_zone(
    customer: Customer, *, phone: str = "", state_zone: str = "", store=UNKNOWN
) -> zoneinfo.ZoneInfo:
    """The customer's time zone (see the module docstring); `phone` is the number written
    to, when known, else their newest phone; `state_zone` the main zone of their state;
    `store` their store when the caller has looked it up already."""
    if found := zone(customer.time_zone):
        return found
    if not phone:
        phone = newest_phone(customer)
    if phone and (found := zone(zone_of_number(phone))):
        return found
    if found := zone(state_zone):
        return found
    if store is UNKNOWN:
        store = customer_store(customer)
    if store and (found := zone(store.time_zone)):
        return found
    return default_zone()


def default_zone() -> zoneinfo.ZoneInfo:
    return zone(settings.ENGAGEMENT_DEFAULT_TIME_ZONE) or zoneinfo.ZoneInfo("UTC")


def send_window() -> tuple[time, time]:
    """The shop's own window (ENGAGEMENT_SEND_WINDOW), inside which the law's apply."""
    start, end = settings.ENGAGEMENT_SEND_WINDOW.split("-")
    return time.fromisoformat(start.strip()), time.fromisoformat(end.strip())
