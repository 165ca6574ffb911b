"""Personas: managers' rules over the customer context, evaluated in SQL (docs/insights.md).

A persona's `rules` is a list of conditions that must all hold, each
`{"field": ..., "op": ..., "value": ...}` over the facts in models.FIELDS. `predicate`
turns them into one SQL condition on a customer row `c`, used both ways:

- `refresh_members(persona)` rewrites who matches in one INSERT … SELECT (the figures
  filter and split by persona through `PersonaMember`); a Celery beat task refreshes
  every persona;
- `personas_of(customer)` evaluates every persona for one customer now (the context
  panel), in one query.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from conversations.models import Customer

from .models import FIELDS, OPERATORS, Persona

_NUMERIC = {"cart_value", "orders", "days_since_first_contact"}
_SQL_OP = {">=": ">=", "<=": "<=", "=": "="}


def validate_rules(rules) -> None:
    if not isinstance(rules, list) or not rules:
        raise ValidationError(
            'Rules are a non-empty list like [{"field": "orders", "op": ">=", "value": 1}].'
        )
    for rule in rules:
        if not isinstance(rule, dict) or set(rule) != {"field", "op", "value"}:
            raise ValidationError(f"{rule!r}: each rule has exactly field, op and value.")
        if rule["field"] not in FIELDS:
            raise ValidationError(f"{rule['field']!r} is not one of {', '.join(FIELDS)}.")
        if rule["op"] not in OPERATORS:
            raise ValidationError(f"{rule['op']!r} is not one of {', '.join(OPERATORS)}.")
        if rule["field"] in _NUMERIC:
            if rule["op"] == "is":
                raise ValidationError(f"{rule['field']} compares with >=, <= or =.")
            try:
                Decimal(str(rule["value"]))
            except InvalidOperation:
                raise ValidationError(
                    f"{rule['field']}: {rule['value']!r} is not a number."
                ) from None
        elif rule["op"] != "is":
            raise ValidationError(f"{rule['field']} takes the operator 'is'.")


def predicate(rules: list[dict], params: list) -> str:
    """One SQL condition over customer `c` for these (validated) rules; appends its
    parameters to `params` in order."""
    parts = []
    for rule in rules:
        field, op, value = rule["field"], rule["op"], rule["value"]
        if field == "viewed":
            parts.append(
                "EXISTS (SELECT 1 FROM commerce_productinterest pi JOIN commerce_product p"
                " ON p.id = pi.product_id WHERE pi.customer_id = c.id AND p.sku = %s)"
            )
            params.append(str(value))
        elif field == "bought":
            parts.append(
                "EXISTS (SELECT 1 FROM commerce_order o WHERE o.customer_id = c.id"
                " AND o.items @> jsonb_build_array(jsonb_build_object('sku', %s::text)))"
            )
            params.append(str(value))
        elif field == "cart_value":
            parts.append(
                "coalesce((SELECT max(ca.value) FROM commerce_cart ca WHERE ca.customer_id = c.id"  # noqa: S608
                f" AND ca.status IN ('open', 'checkout')), 0) {_SQL_OP[op]} %s"
            )
            params.append(Decimal(str(value)))
        elif field == "orders":
            parts.append(
                "(SELECT count(*) FROM commerce_order o WHERE o.customer_id = c.id)"  # noqa: S608
                f" {_SQL_OP[op]} %s"
            )
            params.append(Decimal(str(value)))
        elif field == "channel_used":
            parts.append(
                "EXISTS (SELECT 1 FROM conversations_conversation cv JOIN conversations_event e"
                " ON e.conversation_id = cv.id WHERE cv.customer_id = c.id"
                " AND e.direction = 'in' AND e.channel = %s)"
            )
            params.append(str(value))
        elif field == "scanned_in_store":
            store = "" if str(value) == "any" else " AND s.store_id = %s"
            parts.append(
                f"EXISTS (SELECT 1 FROM instore_scan s WHERE s.customer_id = c.id{store})"  # noqa: S608
            )
            if store:
                params.append(int(value))
        elif field == "days_since_first_contact":
            parts.append(f"extract(epoch FROM %s - c.created_at) / 86400 {_SQL_OP[op]} %s")
            params.extend([timezone.now(), Decimal(str(value))])
    return " AND ".join(f"({part})" for part in parts) or "true"


@transaction.atomic
def refresh_members(persona: Persona) -> int:
    """Rewrite who matches the persona now; return how many do."""
    validate_rules(persona.rules)
    params: list = [persona.pk]
    condition = predicate(persona.rules, params)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM insights_personamember WHERE persona_id = %s", [persona.pk])
        cursor.execute(
            f"""INSERT INTO insights_personamember (persona_id, customer_id)
            SELECT %s, c.id FROM conversations_customer c
            WHERE c.merged_into_id IS NULL AND {condition}""",  # noqa: S608 (no input in the SQL)
            params,
        )
        count = cursor.rowcount
    Persona.objects.filter(pk=persona.pk).update(refreshed_at=timezone.now())
    return count


def refresh_all() -> dict[str, int]:
    return {persona.slug: refresh_members(persona) for persona in Persona.objects.all()}


def personas_of(customer: Customer) -> list[Persona]:
    """The personas the (live) customer matches now, in one query after reading the
    personas: the context providers and the ranker are handed the live customer."""
    personas = list(Persona.objects.all())
    if not personas:
        return []
    params: list = []
    cases = []
    for persona in personas:
        cases.append(f"CASE WHEN {predicate(persona.rules, params)} THEN {int(persona.pk)} END")
    params.append(customer.pk)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT array_remove(ARRAY[{', '.join(cases)}]::bigint[], NULL)"  # noqa: S608
            " FROM conversations_customer c WHERE c.id = %s",
            params,
        )
        row = cursor.fetchone()
    matched = set(row[0]) if row else set()
    return [persona for persona in personas if persona.pk in matched]
