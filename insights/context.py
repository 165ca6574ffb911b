"""The customer context's `personas` (THROUGHLINE_CONTEXT_PROVIDERS): who this customer
is like, by the managers' persona rules, evaluated now in one query."""

from __future__ import annotations

from conversations.models import Customer

from .personas import personas_of


def provide(customer: Customer) -> dict:
    return {
        "personas": [{"id": p.pk, "slug": p.slug, "name": p.name} for p in personas_of(customer)]
    }
