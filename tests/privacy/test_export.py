"""Export: one JSON document with everything held about a customer."""

import json

import pytest
from django.core.management import call_command

from privacy.export import export_customer

pytestmark = pytest.mark.django_db


def test_the_export_holds_every_event_and_every_table(history):
    document = export_customer(history.customer)
    seqs = [event["seq"] for event in document["timeline"]]
    assert seqs == list(range(1, history.events + 1))
    assert {i["kind"] for i in document["identities"]} == {"phone", "email", "visitor"}
    assert document["customer"]["display_name"] == "Zelda Quenby-Marsh"
    assert len(document["cases"]) == 1
    assert document["orders"][0]["external_id"] == "ord-0177"
    assert document["carts"][0]["value"] == "1299.00"
    assert len(document["scans"]) == 1
    assert document["messages_sent"][0]["to_address"] == "+14155550177"
    text = json.dumps(document)
    for value in history.personal:
        assert value in text


def test_the_command_writes_the_same_document(history, tmp_path):
    target = tmp_path / "export.json"
    call_command("export_customer", str(history.customer.pk), "--output", str(target))
    written = json.loads(target.read_text())
    assert len(written["timeline"]) == history.events
