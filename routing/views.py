"""The customer's schedule-a-call-back page: `/c/<signed token>/callback/`.

Thin: check the signed link (conversations.links), offer the slots within business hours
(hours.py), and book the one chosen (callbacks.schedule_call_back). A person picks a day
first (the days with free times, as links), then one of a handful of that day's times
(ROUTING_CALLBACK_TIMES_PER_DAY, spread over the day), shown on the customer's clock (her
profile's time zone, else the store's) with the store's time beside it when they differ.
Any time on the grid within opening hours is accepted; the handful is what is shown.
A forged or foreign link answers 404, an expired one 410, a slot the page did not offer
400: each a page a person can read, never a 500. The form is CSRF-protected (a cookie-bound token).
"""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.core import signing
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from base import limits
from base.inputs import read_datetime
from conversations.links import BadLink, customer_from

from . import hours, rules
from .callbacks import schedule_call_back
from .models import ScheduledCallBack

PAGE = "callback"


def _slots(store) -> list:
    return hours.slots(
        store,
        days=settings.ROUTING_CALLBACK_DAYS,
        step=settings.ROUTING_CALLBACK_SLOT_MINUTES,
        lead=settings.ROUTING_CALLBACK_LEAD_MINUTES,
    )


def _by_day(slots: list, zone: str, store_zone: str) -> list[dict]:
    """The slots by day on the customer's clock (`zone`), each with its time there and,
    when the store keeps another clock, the store's time beside it."""
    tz, store_tz = zoneinfo.ZoneInfo(zone), zoneinfo.ZoneInfo(store_zone)
    days: list[dict] = []
    for slot in slots:
        local = slot.astimezone(tz)
        key = f"{local:%Y-%m-%d}"
        if not days or days[-1]["key"] != key:
            days.append({"key": key, "label": f"{local:%A %d %B}", "slots": []})
        there = slot.astimezone(store_tz)
        days[-1]["slots"].append(
            {
                "value": slot.isoformat(),
                "time": f"{local:%H:%M}",
                "store_time": f"{there:%H:%M}" if zone != store_zone else "",
            }
        )
    return days


def handful(items: list, count: int) -> list:
    """At most `count` of `items`, spread evenly, the first and the last included."""
    if len(items) <= count:
        return items
    if count < 2:
        return items[: max(count, 0)]
    picked = sorted({round(i * (len(items) - 1) / (count - 1)) for i in range(count)})
    return [items[i] for i in picked]


def customer_zone(customer, store_zone: str) -> str:
    """The zone the customer reads times in: her own when known and valid, else the store's."""
    try:
        if customer.time_zone:
            zoneinfo.ZoneInfo(customer.time_zone)
            return customer.time_zone
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        pass
    return store_zone


@require_http_methods(["GET", "POST"])
@limits.limit_per_address("page", json=False)  # a public write: bounded per address
def call_back_page(request, token: str):
    try:
        customer = customer_from(token, PAGE)
    except BadLink as exc:
        expired = isinstance(exc.__context__, signing.SignatureExpired)
        return render(
            request, "routing/bad_link.html", {"reason": str(exc)}, status=410 if expired else 404
        )
    store = hours.store_for(rules.current().stores)
    store_zone = store.time_zone if store else "UTC"
    zone = customer_zone(customer, store_zone)
    slots = _slots(store)
    tz = zoneinfo.ZoneInfo(zone)
    booked = (
        ScheduledCallBack.objects.filter(
            customer=customer, status=ScheduledCallBack.Status.SCHEDULED
        )
        .order_by("slot_start")
        .first()
    )
    days = _by_day(slots, zone, store_zone)
    chosen_day = next((d for d in days if d["key"] == request.GET.get("day")), None)
    context = {
        "customer": customer,
        "store": store,
        "time_zone": zone,
        "store_time_zone": store_zone if store_zone != zone else "",
        "hours": hours.describe_hours(store),
        "days": days,
        "day": chosen_day,
        "times": handful(chosen_day["slots"], settings.ROUTING_CALLBACK_TIMES_PER_DAY)
        if chosen_day
        else [],
        "booked": f"{booked.slot_start.astimezone(tz):%A %d %B at %H:%M}" if booked else "",
    }
    if request.method == "GET":
        return render(request, "routing/callback.html", context)
    # every time the page offers names its offset: one without is none of them
    chosen = read_datetime(request.POST.get("slot", ""), zone=None)
    if chosen is None or chosen not in slots:
        context["error"] = (
            "Please choose one of the times below: we call back within our opening hours "
            f"({context['hours']})."
        )
        return render(request, "routing/callback.html", context, status=400)
    # the call back keeps the store's zone (agents read it); the page answers on hers
    call_back = schedule_call_back(
        customer=customer, slot=chosen, time_zone=store_zone, by_customer=True
    )
    return render(
        request,
        "routing/callback_booked.html",
        {**context, "slot": f"{call_back.slot_start.astimezone(tz):%A %d %B at %H:%M}"},
    )
