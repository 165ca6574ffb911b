"""Export: one JSON document with everything held about a customer (docs/privacy.md).

`export_customer(customer) -> dict` is JSON-ready (dates as ISO strings). It reads the
core's tables (the customer, identities, timeline, cases, outbox) and privacy's own, and
asks every app that holds more for its sections: the `export_hooks` they declare
(PRIVACY_EXPORT_HOOKS overrides them), each `export(customer) -> {"section": [rows]}`
(commerce: carts, orders, products viewed; instore: scans; engagement: nudges). This
module imports none of those apps.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from base import plugins
from conversations.identities import live_customer
from conversations.models import Case, Customer, Event, Identity, Outbox

from .models import ConsentRecord, Erasure, Preference

FORMAT = "throughline.customer-export/1"


def export_customer(customer: Customer) -> dict[str, Any]:
    customer = live_customer(customer)
    conversation = customer.conversation
    identities = list(Identity.objects.filter(customer=customer).order_by("created_at").values())
    events = Event.objects.filter(conversation=conversation).order_by("seq")
    document = {
        "format": FORMAT,
        "exported_at": timezone.now(),
        "customer": {
            "id": customer.pk,
            "display_name": customer.display_name,
            "locale": customer.locale,
            "time_zone": customer.time_zone,
            "traits": customer.traits,
            "created_at": customer.created_at,
            "merged_from": list(customer.merged_from.values_list("pk", flat=True)),
        },
        "identities": identities,
        "preferences": list(
            Preference.objects.filter(customer=customer).values(
                "topic", "channel", "allowed", "updated_at"
            )
        ),
        # the consent ledger: every grant and withdrawal with its proof (docs/compliance.md)
        "consent_records": list(
            ConsentRecord.objects.filter(customer=customer)
            .order_by("occurred_at", "pk")
            .values(
                "action",
                "topic",
                "channel",
                "address_kind",
                "address",
                "source",
                "words",
                "text_version",
                "ip",
                "user_agent",
                "occurred_at",
                "event_id",
            )
        ),
        "consent_history": list(
            events.filter(kind="consent").values("seq", "channel", "body", "data", "occurred_at")
        ),
        "timeline": list(
            events.values(
                "seq",
                "case_id",
                "channel",
                "direction",
                "kind",
                "body",
                "data",
                "occurred_at",
                "delivery_status",
                "source_id",
            ).iterator(chunk_size=2000)
        ),
        "cases": list(
            Case.objects.filter(conversation=conversation)
            .order_by("opened_at")
            .values(
                "id",
                "status",
                "priority",
                "intent",
                "team__name",
                "opened_at",
                "first_response_at",
                "resolved_at",
                "resolution",
            )
        ),
        "messages_sent": list(
            Outbox.objects.filter(event__conversation=conversation)
            .order_by("created_at")
            .values(
                "event__seq", "channel", "to_address", "body", "media_urls", "status", "sent_at"
            )
        ),
        "erasures": list(
            Erasure.objects.filter(customer=customer).values("erased_at", "erased_by__username")
        ),
    }
    for export in plugins.enabled("export_hooks"):
        for section, rows in export(customer).items():
            if section in document:  # two apps, one name: one would hide the other
                raise ValueError(f"export section {section!r} is provided twice")
            document[section] = rows
    # One round trip through the encoder: dates, decimals and UUIDs become JSON values.
    return json.loads(json.dumps(document, cls=DjangoJSONEncoder))


def export_json(customer: Customer) -> str:
    return json.dumps(export_customer(customer), indent=2, ensure_ascii=False)
