"""The customer's preference page, reached by a signed link: `/c/<token>/preferences/`."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from base import limits
from conversations import consent
from conversations.links import BadLink, customer_from

from .models import CHANNELS, TOPICS
from .preferences import set_preferences, shown_choices, text_status

PAGE = "preferences"


@require_http_methods(["GET", "POST"])
@limits.limit_per_address("page", json=False)  # a public write: bounded per address
def preferences(request: HttpRequest, token: str) -> HttpResponse:
    try:
        customer = customer_from(token, PAGE)
    except BadLink as exc:
        return render(request, "privacy/bad_link.html", {"reason": str(exc)}, status=400)
    disclosure = consent.sms_disclosure()
    if request.method == "POST":
        if "stop_all" in request.POST:  # revocation by any reasonable means: one button
            consent.opt_out_customer(
                customer, source="preferences page", channel="system",
                words="Stop all messages (the preference page's button)",
            )  # fmt: skip
            return redirect(f"{request.path}?saved=1")
        # A box left unticked is not sent at all: every pair on the page is a choice.
        chosen = {(t, c): f"{t}:{c}" in request.POST for t in TOPICS for c in CHANNELS}
        if text_status(customer) == "opted out":  # START turns texts back on, not this page
            chosen = {key: on for key, on in chosen.items() if key[1] != "sms"}
        proof = disclosure.ticked(request, channel=None)  # the boxes say which channels
        set_preferences(customer, chosen, source="preferences page", proof=proof)
        return redirect(f"{request.path}?saved=1")
    current = shown_choices(customer)
    texts = text_status(customer)
    rows = [
        {
            "label": label,
            "cells": [
                {
                    "name": f"{topic}:{channel}",
                    "label": CHANNELS[channel],
                    "on": current[(topic, channel)],
                    "disabled": channel == "sms" and texts == "opted out",
                }
                for channel in CHANNELS
            ],
        }
        for topic, label in TOPICS.items()
    ]
    return render(
        request,
        "privacy/preferences.html",
        {
            "rows": rows,
            "channels": CHANNELS,
            "saved": request.GET.get("saved") == "1",
            "texts": texts,
            "disclosure": disclosure,
        },
    )
