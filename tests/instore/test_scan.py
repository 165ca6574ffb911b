"""`POST /s/<code>/scan`: the scan lands on the right conversation, once."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from channels_adapters.webchat import inbound
from conversations import journal
from conversations.identities import resolve_customer
from conversations.models import Conversation, Customer, Event, Identity
from conversations.visitors import issue_visitor_token, new_visitor_id, read_visitor_token
from instore.models import Scan
from tests.instore.factories import PlacementFactory

pytestmark = pytest.mark.django_db


def scan(client, placement, token=None):
    body = json.dumps({"token": token} if token else {})
    return client.post(f"/s/{placement.code}/scan", body, content_type="application/json")


def test_a_visitor_who_chatted_gets_the_scan_on_her_conversation(client):
    # given a widget visitor who chatted online
    visitor_id = new_visitor_id()
    shopper = resolve_customer("visitor", visitor_id)
    journal.record(
        customer=shopper, channel="web", kind="message", direction="in", body="Is it quiet?"
    )
    placement = PlacementFactory()
    case_before = Conversation.objects.get(customer=shopper).current_case_id
    assert case_before is not None  # her message opened a case

    # when her phone's browser, carrying her token, scans the label
    response = scan(client, placement, issue_visitor_token(visitor_id))

    # then the scan follows her message in her one conversation
    assert response.status_code == 200
    assert read_visitor_token(response.json()["token"]) == visitor_id
    assert Customer.objects.count() == 1
    events = list(shopper.conversation.events.order_by("seq"))
    assert [(e.seq, e.channel, e.kind) for e in events] == [
        (1, "web", "message"),
        (2, "instore", "scan"),
    ]
    event = events[1]
    assert event.direction == "in"
    assert event.body == "Scanned: T900 Folding Treadmill at Downtown"
    assert event.data["store"] == {"id": placement.store.pk, "name": "Downtown"}
    assert event.data["product"] == {
        "id": placement.product.pk,
        "sku": "T900",
        "name": "T900 Folding Treadmill",
    }
    assert event.data["placement"] == {
        "id": placement.pk,
        "label": "aisle 4, end cap",
        "code": placement.code,
    }
    after = Conversation.objects.get(customer=shopper)
    assert after.last_channel == "instore"
    # a scan is not a message to answer: no unread, no new case
    assert (after.unread_count, after.current_case_id) == (1, case_before)


def test_a_browser_without_a_token_becomes_a_new_visitor_holding_the_scan(client):
    placement = PlacementFactory()

    response = scan(client, placement)

    # an anonymous scan is its row only: no customer, identity, conversation or event
    visitor_id = read_visitor_token(response.json()["token"])
    assert list(Scan.objects.values_list("visitor_id", "placement")) == [(visitor_id, placement.pk)]
    assert not Customer.objects.exists()
    assert not Identity.objects.exists()
    assert not Event.objects.exists()
    assert response["Cache-Control"] == "no-store"


def test_the_held_scan_is_journalled_when_the_visitor_first_writes(client, settings):
    # given an anonymous scan, then a message from the same browser's widget
    placement = PlacementFactory()
    token = scan(client, placement).json()["token"]
    visitor_id = read_visitor_token(token)

    inbound.receive_message(visitor_id=visitor_id, client_id="c-1", body="Is it quiet?")

    # then one conversation holds the scan, at the scan's time, before the message
    customer = Identity.objects.get(kind="visitor", value=visitor_id).customer
    events = list(customer.conversation.events.order_by("seq"))
    assert [(e.channel, e.kind) for e in events] == [("instore", "scan"), ("web", "message")]
    assert events[0].occurred_at == Scan.objects.get().scanned_at
    assert events[0].source_id == Scan.objects.get().source_id
    assert Customer.objects.count() == 1


def test_a_forged_token_is_treated_as_none(client):
    placement = PlacementFactory()

    response = scan(client, placement, issue_visitor_token("v_someone")[:-2] + "xx")

    assert response.status_code == 200
    assert read_visitor_token(response.json()["token"]) != "v_someone"
    assert not Identity.objects.filter(value="v_someone").exists()


def test_the_answer_carries_the_text_us_link_with_the_scans_reference(client):
    placement = PlacementFactory()

    data = scan(client, placement).json()

    reference = Scan.objects.get().reference
    assert data["reference"] == reference
    assert data["sms_body"] == (
        f"Hi! I'm at Downtown looking at the T900 Folding Treadmill. Ref {reference}"
    )
    assert data["sms_href"].startswith("sms:+14155550100?&body=Hi%21%20I%27m%20at%20")
    assert data["sms_href"].endswith(f"Ref%20{reference}")


def known_visitor_token() -> str:
    """The token of a visitor who is a customer already (they chatted): scans journal."""
    visitor_id = new_visitor_id()
    resolve_customer("visitor", visitor_id)
    return issue_visitor_token(visitor_id)


def test_repeated_scans_within_minutes_record_one_event(client):
    placement = PlacementFactory()
    token = known_visitor_token()
    start = timezone.now().replace(minute=0, second=1)  # the start of a dedupe bucket

    with time_machine.travel(start, tick=False):
        first = scan(client, placement, token).json()
    with time_machine.travel(start + timedelta(minutes=3), tick=False):
        again = scan(client, placement, token).json()

    assert Event.objects.filter(kind="scan").count() == 1
    assert Scan.objects.count() == 1
    assert again["reference"] == first["reference"]


def test_a_scan_after_the_window_is_a_new_event(client, settings):
    placement = PlacementFactory()
    token = known_visitor_token()
    start = timezone.now().replace(minute=0, second=1)

    with time_machine.travel(start, tick=False):
        scan(client, placement, token)
    with time_machine.travel(
        start + timedelta(seconds=settings.INSTORE_SCAN_DEDUPE_SECONDS), tick=False
    ):
        scan(client, placement, token)

    assert Event.objects.filter(kind="scan").count() == 2


def test_two_shoppers_scanning_one_code_are_two_scans_in_two_conversations(client):
    placement = PlacementFactory()

    scan(client, placement, known_visitor_token())
    scan(client, placement, known_visitor_token())

    events = Event.objects.filter(kind="scan")
    assert events.count() == 2
    assert len({e.conversation_id for e in events}) == 2


def test_the_scan_reaches_the_conversations_live_group(
    client, broadcasts, django_capture_on_commit_callbacks
):
    placement = PlacementFactory()
    visitor_id = new_visitor_id()
    conversation = resolve_customer("visitor", visitor_id).conversation

    with django_capture_on_commit_callbacks(execute=True):
        scan(client, placement, issue_visitor_token(visitor_id))

    received = broadcasts.collect()
    [(_, message)] = [(g, m) for g, m in received if g == f"conv.{conversation.pk}"]
    assert message["event"]["kind"] == "scan"
    assert message["event"]["body"] == "Scanned: T900 Folding Treadmill at Downtown"


@pytest.mark.django_db(transaction=True)
def test_the_same_scan_ten_times_at_once_records_one_event(concurrently):
    placement = PlacementFactory()
    token = known_visitor_token()

    statuses = concurrently(lambda: scan(Client(), placement, token).status_code, [()] * 10)

    assert statuses == [200] * 10
    assert Event.objects.filter(kind="scan").count() == 1
    assert Scan.objects.count() == 1


def test_the_scan_endpoint_wants_post_and_json(client):
    placement = PlacementFactory()

    assert client.get(f"/s/{placement.code}/scan").status_code == 405
    bad = client.post(f"/s/{placement.code}/scan", "not json", content_type="application/json")
    assert bad.status_code == 400
    assert not Scan.objects.exists()


def test_the_scan_call_is_csrf_protected():
    placement = PlacementFactory()
    client = Client(enforce_csrf_checks=True)

    refused = scan(client, placement)
    page = client.get(f"/s/{placement.code}/")
    token = page.cookies["csrftoken"].value
    accepted = client.post(
        f"/s/{placement.code}/scan",
        "{}",
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )

    assert refused.status_code == 403
    assert accepted.status_code == 200
