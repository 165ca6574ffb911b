"""What instore holds about a person, for privacy's erasure and export (docs/privacy.md).

Declared on instore's AppConfig as an `erasure_hooks` and an `export_hooks` plug: privacy
asks each app for its own rows and imports none of them. Scans are stored against the
widget's visitor id and, once it is a customer's, that customer: the erasure clears both
(it deletes the visitor identities only after the hooks ran).
"""

from __future__ import annotations

from django.db import connection

from conversations.models import Customer, Identity

from .models import Scan


def _visitor_ids(customer: Customer) -> list[str]:
    return list(
        Identity.objects.filter(customer=customer, kind=Identity.Kind.VISITOR).values_list(
            "value", flat=True
        )
    )


def erase(customer: Customer, counts: dict[str, int]) -> None:
    """Detach the customer's scans from their visitor id and from them: the scan stays for
    the store's figures, only the link to the person goes."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Scan._meta.db_table} SET visitor_id = 'erased', "  # noqa: S608 (a table name)
            "source_id = 'erased:' || id, customer_id = NULL "
            "WHERE visitor_id = ANY(%s) OR customer_id = %s",
            [_visitor_ids(customer), customer.pk],
        )
        counts["scans"] = cursor.rowcount


def export(customer: Customer) -> dict[str, list]:
    return {
        "scans": list(
            Scan.objects.filter(visitor_id__in=_visitor_ids(customer))
            .order_by("scanned_at")
            .values("store__name", "placement__label", "placement__product__name", "scanned_at")
        )
    }
