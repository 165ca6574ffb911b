"""What engagement holds about a person, for privacy's erasure and export (docs/privacy.md).

Declared on engagement's AppConfig as an `erasure_hooks` and an `export_hooks` plug, so
privacy never imports engagement. A nudge's body is its rendered message (her name, her
cart) and its data may carry the number it went to; a watch's data what the rule noted.
The rows themselves stay, emptied, for the nudge figures (sent, suppressed and why).
"""

from __future__ import annotations

from django.db.models import Q

from conversations.models import Customer

from .models import Nudge, Watch


def erase(customer: Customer, counts: dict[str, int]) -> None:
    counts["nudges"] = (
        Nudge.objects.filter(customer=customer)
        .filter(~Q(body="") | ~Q(data={}))
        .update(body="", data={})
    )
    counts["watches"] = Watch.objects.filter(customer=customer).exclude(data={}).update(data={})


def export(customer: Customer) -> dict[str, list]:
    return {"nudges": list(Nudge.objects.filter(customer=customer).order_by("pk").values())}
