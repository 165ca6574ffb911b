"""The customer's schedule-a-call-back page: `/c/<signed token>/callback/`.

Thin: check the signed link (conversations.links), offer the slots within business hours
(hours.py), and book the one chosen (callbacks.schedule_call_back). A forged or foreign
link answers 404, an expired one 410, a slot the page did not offer 400: each a page a
person can read, never a 500. The form is CSRF-protected (a cookie-bound token).
"""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.core import signing
from django.shortcuts import render
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_http_methods

from base import limits
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


def _by_day(slots: list, zone: str) -> list[dict]:
    tz = zoneinfo.ZoneInfo(zone)
    days: list[dict] = []
    for slot in slots:
        local = slot.astimezone(tz)
        label = f"{local:%A %d %B}"
        if not days or days[-1]["label"] != label:
            days.append({"label": label, "slots": []})
        days[-1]["slots"].append({"value": slot.isoformat(), "time": f"{local:%H:%M}"})
    return days


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
    zone = store.time_zone if store else "UTC"
    slots = _slots(store)
    tz = zoneinfo.ZoneInfo(zone)
    booked = (
        ScheduledCallBack.objects.filter(
            customer=customer, status=ScheduledCallBack.Status.SCHEDULED
        )
        .order_by("slot_start")
        .first()
    )
    context = {
        "customer": customer,
        "store": store,
        "time_zone": zone,
        "hours": hours.describe_hours(store),
        "days": _by_day(slots, zone),
        "booked": f"{booked.slot_start.astimezone(tz):%A %d %B at %H:%M}" if booked else "",
    }
    if request.method == "GET":
        return render(request, "routing/callback.html", context)
    chosen = parse_datetime(request.POST.get("slot", "") or "")
    if chosen is None or chosen.tzinfo is None or chosen not in slots:
        context["error"] = (
            "Please choose one of the times below: we call back within our opening hours "
            f"({context['hours']})."
        )
        return render(request, "routing/callback.html", context, status=400)
    call_back = schedule_call_back(customer=customer, slot=chosen, time_zone=zone, by_customer=True)
    return render(
        request,
        "routing/callback_booked.html",
        {**context, "slot": f"{call_back.slot_start.astimezone(tz):%A %d %B at %H:%M}"},
    )
