"""The customer's preference page, reached by a signed link: `/c/<token>/preferences/`."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from conversations import counters
from conversations.links import BadLink, customer_from

from .models import CHANNELS, TOPICS
from .preferences import choices_of, set_preferences

PAGE = "preferences"


@require_http_methods(["GET", "POST"])
@counters.limit_per_address("page", json=False)  # a public write: bounded per address
def preferences(request: HttpRequest, token: str) -> HttpResponse:
    try:
        customer = customer_from(token, PAGE)
    except BadLink as exc:
        return render(request, "privacy/bad_link.html", {"reason": str(exc)}, status=400)
    if request.method == "POST":
        # A box left unticked is not sent at all: every pair on the page is a choice.
        chosen = {(t, c): f"{t}:{c}" in request.POST for t in TOPICS for c in CHANNELS}
        set_preferences(customer, chosen, source="preferences page")
        return redirect(f"{request.path}?saved=1")
    current = choices_of(customer)
    rows = [
        {
            "label": label,
            "cells": [
                {
                    "name": f"{topic}:{channel}",
                    "label": CHANNELS[channel],
                    "on": current[(topic, channel)],
                }
                for channel in CHANNELS
            ],
        }
        for topic, label in TOPICS.items()
    ]
    return render(
        request,
        "privacy/preferences.html",
        {"rows": rows, "channels": CHANNELS, "saved": request.GET.get("saved") == "1"},
    )
