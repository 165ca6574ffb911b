"""commerce.ingest.resolve_customers: a batch's customer references in one query."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from commerce.ingest import resolve_customers
from conversations.identities import merge_customers, resolve_customer
from conversations.models import Customer, Identity

pytestmark = pytest.mark.django_db


def test_known_customers_cost_one_query_whatever_their_number():
    known = {f"c-{n}": resolve_customer("external", f"c-{n}") for n in range(20)}

    with CaptureQueriesContext(connection) as queries:
        customers = resolve_customers(("external", ref, "") for ref in known)

    assert len(queries) == 1
    assert {key: c.pk for key, c in customers.items()} == {
        ("external", ref): c.pk for ref, c in known.items()
    }


def test_new_references_create_their_customer_once():
    customers = resolve_customers(
        [
            ("email", "Ann@Example.com", "Ann"),
            ("email", "ann@example.com", ""),
            ("external", "x", ""),
        ]
    )

    ann = customers[("email", "ann@example.com")]
    assert ann.display_name == "Ann" and ann.conversation is not None
    assert Customer.objects.count() == 2
    assert Identity.objects.get(kind="email").customer == ann


def test_a_merged_customer_is_followed_to_the_survivor():
    older = resolve_customer("external", "old")
    newer = resolve_customer("external", "new")
    merge_customers(older, newer)

    customers = resolve_customers([("external", "new", ""), ("external", "old", "")])

    assert customers[("external", "new")].pk == older.pk
    assert customers[("external", "old")].pk == older.pk
