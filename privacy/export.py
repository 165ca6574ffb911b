"""Export: one JSON document with everything held about a customer (docs/privacy.md).

`export_customer(customer) -> dict` is JSON-ready (dates as ISO strings). It reads every
table that points at the customer, directly or through their conversation, identities
(scans are stored against the widget's visitor id) or outbox; apps installed later
(engagement) are read when present.
"""

from __future__ import annotations

import json
from typing import Any

from django.apps import apps
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from commerce.models import Cart, CartItem, Order, ProductInterest
from conversations.identities import live_customer
from conversations.models import Case, Customer, Event, Identity, Outbox
from instore.models import Scan

from .models import ConsentRecord, Erasure, Preference

FORMAT = "throughline.customer-export/1"


def export_customer(customer: Customer) -> dict[str, Any]:
    customer = live_customer(customer)
    conversation = customer.conversation
    identities = list(Identity.objects.filter(customer=customer).order_by("created_at").values())
    visitor_ids = [i["value"] for i in identities if i["kind"] == Identity.Kind.VISITOR]
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
        "carts": [
            {
                **cart,
                "items": list(
                    CartItem.objects.filter(cart_id=cart["id"]).values(
                        "sku", "name", "quantity", "unit_price"
                    )
                ),
            }
            for cart in Cart.objects.filter(customer=customer)
            .order_by("created_at")
            .values("id", "status", "currency", "value", "item_count", "created_at", "ordered_at")
        ],
        "orders": list(
            Order.objects.filter(customer=customer)
            .order_by("placed_at")
            .values("external_id", "currency", "total", "items", "placed_at", "delivered_at")
        ),
        "products_viewed": list(
            ProductInterest.objects.filter(customer=customer).values(
                "product__sku", "product__name", "views", "first_viewed_at", "last_viewed_at"
            )
        ),
        "scans": list(
            Scan.objects.filter(visitor_id__in=visitor_ids)
            .order_by("scanned_at")
            .values("store__name", "placement__label", "placement__product__name", "scanned_at")
        ),
        "nudges": _nudges(customer),
        "erasures": list(
            Erasure.objects.filter(customer=customer).values("erased_at", "erased_by__username")
        ),
    }
    # One round trip through the encoder: dates, decimals and UUIDs become JSON values.
    return json.loads(json.dumps(document, cls=DjangoJSONEncoder))


def _nudges(customer: Customer) -> list[dict]:
    if not apps.is_installed("engagement"):
        return []
    Nudge = apps.get_model("engagement", "Nudge")
    return list(Nudge.objects.filter(customer=customer).order_by("pk").values())


def export_json(customer: Customer) -> str:
    return json.dumps(export_customer(customer), indent=2, ensure_ascii=False)
