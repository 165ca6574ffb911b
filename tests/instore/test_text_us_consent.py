"""The landing's consent box beside "Text us": ticked, the prefilled text carries the
marker, and that text (signed as Twilio signs it) is the grant, with the page's proof in
the consent ledger (docs/instore.md, "Consent to texts")."""

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from conversations.consent import sms_disclosure
from privacy.models import ConsentRecord
from tests.channels_adapters.sms.conftest import SHOPPER, sid
from tests.instore.factories import PlacementFactory

pytestmark = pytest.mark.django_db
AT = datetime(2026, 3, 10, 17, 0, tzinfo=UTC)
BROWSER = "Mozilla/5.0 (iPhone) landing"


@pytest.fixture
def text(twilio, django_capture_on_commit_callbacks):
    def deliver(body, *, n=1):
        with django_capture_on_commit_callbacks(execute=True):
            response = twilio.sms(body, sid=sid(n), sender=SHOPPER)
        assert response.status_code == 200
        return response

    return deliver


def post(client, url, body):
    return client.post(
        url, json.dumps(body), content_type="application/json", HTTP_USER_AGENT=BROWSER,
        REMOTE_ADDR="203.0.113.9",
    )  # fmt: skip


def scan_and_tick(client, placement, *, ticked=True, version=None):
    scanned = post(client, f"/s/{placement.code}/scan", {}).json()
    answer = post(client, f"/s/{placement.code}/consent", {
        "token": scanned["token"], "reference": scanned["reference"], "consent": ticked,
        "disclosure_version": version or sms_disclosure().version,
    })  # fmt: skip
    return scanned, answer


def test_a_ticked_box_and_its_text_write_a_ledger_line_with_the_pages_proof(client, text):
    placement = PlacementFactory()
    with time_machine.travel(AT, tick=False):
        scanned, answer = scan_and_tick(client, placement)
    assert answer.status_code == 200 and answer.json()["consent"] is True
    assert answer.json()["sms_body"] == scanned["sms_body"] + " YES"
    assert "YES" in answer.json()["sms_href"]

    with time_machine.travel(AT + timedelta(minutes=2), tick=False):
        text(answer.json()["sms_body"])

    (row,) = ConsentRecord.objects.all()
    shown = sms_disclosure()
    assert (row.action, row.channel, row.topic) == ("granted", "sms", "")
    assert (row.address_kind, row.address, row.source) == ("phone", SHOPPER, "instore:text us")
    assert (row.words, row.text_version) == (shown.text, shown.version)
    assert (row.ip, row.user_agent) == ("203.0.113.9", BROWSER)
    assert row.occurred_at == AT + timedelta(minutes=2)  # when the number said yes
    assert row.customer.identities.get(kind="phone").consented_at is not None


def test_an_unticked_box_or_no_marker_grants_nothing(client, text):
    placement = PlacementFactory()
    scanned, answer = scan_and_tick(client, placement, ticked=False)
    assert answer.json()["consent"] is False and "YES" not in answer.json()["sms_body"]
    text(scanned["sms_body"] + " YES")  # the marker typed by hand, with no box ticked

    other = PlacementFactory()
    scanned, _ = scan_and_tick(client, other)  # ticked, but the shopper deleted "YES"
    text(scanned["sms_body"], n=2)

    assert not ConsentRecord.objects.exists()


def test_unticking_forgets_the_proof_and_a_changed_text_is_refused(client):
    placement = PlacementFactory()
    scanned, _ = scan_and_tick(client, placement)
    untick = {"token": scanned["token"], "reference": scanned["reference"], "consent": False}
    post(client, f"/s/{placement.code}/consent", untick)
    scan_row = placement.scans.get()
    assert (scan_row.consent_ticked_at, scan_row.consent_ip, scan_row.consent_text) == (
        None, None, ""
    )  # fmt: skip

    _, stale = scan_and_tick(client, PlacementFactory(), version="sha256:old")
    assert stale.status_code == 422


@pytest.mark.parametrize(
    "body",
    [{"reference": "ABCD-EFGH", "consent": True}, {"token": "forged", "reference": "X"}, []],
)
def test_a_consent_call_without_this_browsers_scan_is_refused(client, body):
    placement = PlacementFactory()
    response = post(client, f"/s/{placement.code}/consent", body)
    assert response.status_code == 400
    assert not placement.scans.filter(consent_ticked_at__isnull=False).exists()


def test_a_repeated_text_writes_one_ledger_line(client, text):
    placement = PlacementFactory()
    _, answer = scan_and_tick(client, placement)
    text(answer.json()["sms_body"])
    text(answer.json()["sms_body"])  # Twilio's retry: the same MessageSid

    assert ConsentRecord.objects.count() == 1
