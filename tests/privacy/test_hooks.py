"""Erasure and export ask each app through the hooks it declares, and only those."""

import pytest

from engagement.models import Nudge
from instore.models import Scan
from privacy.erasure import erase_customer
from privacy.export import export_customer

pytestmark = pytest.mark.django_db

asked_to_erase: list[int] = []  # the customers erase_loyalty was called with


def export_loyalty(customer):
    return {"loyalty": [{"customer": customer.pk, "points": 120}]}


def export_scans_again(customer):
    return {"scans": []}


def erase_loyalty(customer, counts):
    asked_to_erase.append(customer.pk)
    counts["loyalty cards"] = 1


def test_the_export_holds_the_sections_the_apps_declare(history):
    document = export_customer(history.customer)

    assert {"carts", "orders", "products_viewed", "scans", "nudges"} <= set(document)


def test_an_app_adds_its_section_and_an_empty_setting_asks_none(history, settings):
    settings.PRIVACY_EXPORT_HOOKS = ["tests.privacy.test_hooks.export_loyalty"]
    document = export_customer(history.customer)
    assert document["loyalty"] == [{"customer": history.customer.pk, "points": 120}]
    assert "carts" not in document and "scans" not in document

    settings.PRIVACY_EXPORT_HOOKS = []
    assert not {"carts", "scans", "nudges", "loyalty"} & set(export_customer(history.customer))


def test_two_apps_cannot_export_one_section(history, settings):
    settings.PRIVACY_EXPORT_HOOKS = [
        "instore.privacy.export",
        "tests.privacy.test_hooks.export_scans_again",
    ]
    with pytest.raises(ValueError, match="'scans' is provided twice"):
        export_customer(history.customer)


def test_erasure_calls_each_declared_hook_and_reports_its_counts(history, settings):
    asked_to_erase.clear()
    settings.PRIVACY_ERASURE_HOOKS = [
        "instore.privacy.erase",
        "tests.privacy.test_hooks.erase_loyalty",
    ]

    report = erase_customer(history.customer)

    assert asked_to_erase == [history.customer.pk]
    assert report.counts["loyalty cards"] == 1 and report.counts["scans"] == 1
    assert Scan.objects.get().visitor_id == "erased"
    # engagement was not asked: its nudges keep their text
    assert Nudge.objects.filter(customer=history.customer).exclude(body="").exists()
