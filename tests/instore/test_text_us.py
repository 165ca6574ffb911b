"""The "Text us" text, carrying a scan's reference, joins the sender's phone to the scan.

The webhook is signed as Twilio signs it (RequestValidator); the journal runs the
`instore.hooks.on_event` hook after commit, so each post runs its on-commit callbacks.
"""

import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from conversations import journal
from conversations.identities import resolve_customer
from conversations.models import Conversation, Customer, Event, Identity
from conversations.visitors import issue_visitor_token, new_visitor_id, read_visitor_token
from instore.codes import references_in
from instore.models import Scan
from tests.channels_adapters.sms.conftest import SHOPPER, sid
from tests.instore.factories import PlacementFactory

pytestmark = pytest.mark.django_db
OTHER_PHONE = "+14155550199"


@pytest.fixture
def text(twilio, django_capture_on_commit_callbacks):
    """Deliver a signed inbound text and run what the journal does after commit."""

    def deliver(body, *, n=1, sender=SHOPPER):
        with django_capture_on_commit_callbacks(execute=True):
            response = twilio.sms(body, sid=sid(n), sender=sender)
        assert response.status_code == 200
        return response

    return deliver


def scan(client, placement, token=None):
    body = json.dumps({"token": token} if token else {})
    return client.post(f"/s/{placement.code}/scan", body, content_type="application/json").json()


def live_conversations():
    return Conversation.objects.exclude(status="merged")


def test_an_anonymous_scan_then_the_prefilled_text_end_in_one_conversation(client, text):
    # given an anonymous scan, and the text the "Text us" link prefills
    placement = PlacementFactory()
    answer = scan(client, placement)

    # when that text arrives from her phone
    text(answer["sms_body"])

    # then one conversation holds the scan and the text, and knows her by both
    [conversation] = live_conversations()
    kinds = list(conversation.events.order_by("seq").values_list("channel", "kind"))
    assert ("instore", "scan") in kinds
    assert ("sms", "message") in kinds
    assert ("instore", "scan_linked") in kinds
    identities = set(conversation.customer.identities.values_list("kind", "value"))
    assert identities == {
        ("visitor", read_visitor_token(answer["token"])),
        ("phone", SHOPPER),
    }
    assert Scan.objects.get().linked_at is not None


def test_a_phone_with_history_and_a_visitor_with_history_merge_losslessly(client, text):
    # given a phone that texted last week and a widget visitor who chatted online
    phone_customer = resolve_customer("phone", SHOPPER)
    journal.record(
        customer=phone_customer,
        channel="sms",
        kind="message",
        direction="in",
        body="When do you restock?",
        occurred_at=timezone.now() - timedelta(days=7),
    )
    visitor_id = new_visitor_id()
    visitor = resolve_customer("visitor", visitor_id)
    journal.record(
        customer=visitor, channel="web", kind="message", direction="in", body="Is it quiet?"
    )
    placement = PlacementFactory()
    answer = scan(client, placement, issue_visitor_token(visitor_id))

    text(answer["sms_body"], n=2)

    [conversation] = live_conversations()
    bodies = list(conversation.events.order_by("seq").values_list("kind", "body"))
    assert ("message", "When do you restock?") in bodies
    assert ("message", "Is it quiet?") in bodies
    assert ("scan", "Scanned: T900 Folding Treadmill at Downtown") in bodies
    assert ("message", answer["sms_body"]) in bodies
    assert "merge" in [kind for kind, _ in bodies]  # the merge left its trace
    assert resolve_customer("visitor", visitor_id) == resolve_customer("phone", SHOPPER)


def test_the_reference_is_found_however_it_is_typed(client, text):
    placement = PlacementFactory()
    answer = scan(client, placement)
    spaced = answer["reference"].lower().replace("-", " ")

    text(f"hi, ref: {spaced} - is it in stock?")

    assert live_conversations().count() == 1


def test_a_reference_joins_one_phone_only(client, text):
    placement = PlacementFactory()
    answer = scan(client, placement)
    text(answer["sms_body"], n=1)

    # someone who saw it over her shoulder texts it too
    text(answer["sms_body"], n=2, sender=OTHER_PHONE)

    other = resolve_customer("phone", OTHER_PHONE)
    shopper = resolve_customer("phone", SHOPPER)
    assert other != shopper
    assert not other.identities.filter(kind="visitor").exists()


def test_an_expired_reference_joins_nothing(client, text, settings):
    placement = PlacementFactory()
    answer = scan(client, placement)

    with time_machine.travel(
        timezone.now() + timedelta(seconds=settings.INSTORE_REFERENCE_MAX_AGE + 60)
    ):
        text(answer["sms_body"])

    # the phone's conversation only: the anonymous scan stays a scan row, unjoined
    [conversation] = live_conversations()
    assert not conversation.events.filter(kind="scan").exists()
    assert Scan.objects.get().linked_at is None


def test_an_unknown_reference_or_none_joins_nothing(client, text):
    placement = PlacementFactory()
    scan(client, placement)

    text("Ref ABCD-EFGH please")  # well-formed, never issued
    text("Do you have it in blue?", n=2)

    [conversation] = live_conversations()  # the phone's; the anonymous scan made none
    assert not conversation.events.filter(kind="scan").exists()
    assert not Event.objects.filter(kind="merge").exists()


def test_a_repeated_webhook_links_once(client, text):
    placement = PlacementFactory()
    answer = scan(client, placement)

    text(answer["sms_body"], n=1)
    text(answer["sms_body"], n=1)  # Twilio retried

    assert Event.objects.filter(kind="scan_linked").count() == 1
    assert Event.objects.filter(kind="merge").count() == 1


def test_outbound_texts_and_other_channels_are_not_read(client):
    from instore.hooks import on_event

    placement = PlacementFactory()
    answer = scan(client, placement)
    customer = resolve_customer("phone", SHOPPER)
    for channel, direction in [("sms", "out"), ("web", "in")]:
        event = journal.record(
            customer=customer,
            channel=channel,
            kind="message",
            direction=direction,
            body=answer["sms_body"],
            data={"from": SHOPPER},
        )
        on_event(event)

    assert Scan.objects.get().linked_at is None
    assert Customer.objects.filter(merged_into__isnull=False).count() == 0


def test_the_hook_logs_no_number_and_no_text(client, text, caplog):
    placement = PlacementFactory()
    answer = scan(client, placement)

    with caplog.at_level("DEBUG"):
        text(answer["sms_body"])

    logged = caplog.text
    assert SHOPPER not in logged and SHOPPER[2:] not in logged
    assert answer["reference"] not in logged


def test_references_in_reads_the_forms_shoppers_type():
    assert references_in("Hi! Ref T9K2-XYZQ") == ["T9K2-XYZQ"]
    assert references_in("ref t9k2xyzq") == ["T9K2-XYZQ"]
    assert references_in("REF#T9K2 XYZQ thanks") == ["T9K2-XYZQ"]
    assert references_in("preference T9K2-XYZQ") == []  # "ref" must be a word
    assert references_in("Ref T9K2-XYZ") == []  # too short
    assert references_in("Ref T0K2-XYZQ") == []  # 0 is never in a reference


def test_a_text_not_in_this_flow_is_recorded_as_usual(text):
    text("Ref T9K2-XYZQ")

    assert Identity.objects.get(kind="phone").value == SHOPPER
    assert Event.objects.get().kind == "message"
