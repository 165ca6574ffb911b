"""The landing's consent box in a real browser: ticked, the "Text us" link carries the
marker, and the signed text it prefills writes the grant with the page's proof.

Uses the live server (daphne) and Chromium fixtures of tests/browser/conftest.py.
"""

from __future__ import annotations

import urllib.request
from urllib.parse import unquote, urlencode

import pytest
from playwright.sync_api import expect
from twilio.request_validator import RequestValidator

from conversations.consent import sms_disclosure
from privacy.models import ConsentRecord
from tests.browser.test_instore import AUTH_TOKEN, PHONE, SHOPPER, scanned
from tests.instore.factories import PlacementFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def twilio_env(monkeypatch):
    """The live server checks webhook signatures with this token (set before it starts)."""
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", AUTH_TOKEN)


def send_signed_text(base_url: str, body: str) -> None:
    form = {"MessageSid": "SM" + "7" * 32, "From": SHOPPER, "To": "+14155550100",
            "Body": body, "NumMedia": "0"}  # fmt: skip
    signature = RequestValidator(AUTH_TOKEN).compute_signature(
        "http://127.0.0.1/hooks/twilio/sms/", form
    )
    request = urllib.request.Request(  # noqa: S310  (our own live server on 127.0.0.1)
        f"{base_url}/hooks/twilio/sms/",
        data=urlencode(form).encode(),
        headers={"X-Twilio-Signature": signature,
                 "Content-Type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        assert response.status == 200


def test_ticking_the_box_then_texting_records_the_grant_with_the_pages_proof(
    twilio_env, live_server_url, browser_page
):
    page = browser_page
    page.set_viewport_size(PHONE)
    placement = PlacementFactory()
    answer = scanned(page, live_server_url, placement.code)
    box = page.get_by_role("checkbox")
    expect(box).not_to_be_checked()
    expect(page.locator("#instore-disclosure")).to_have_text(sms_disclosure().text)

    box.check()
    expect(page.locator("html")).to_have_attribute("data-consent", "ticked")
    href = page.get_by_role("link", name="Text us").get_attribute("href")
    body = unquote(href.split("&body=", 1)[1])
    assert body.endswith(f"Ref {answer['reference']} YES")
    send_signed_text(live_server_url, body)

    (row,) = ConsentRecord.objects.all()
    assert (row.action, row.channel, row.address) == ("granted", "sms", SHOPPER)
    assert (row.words, row.text_version) == (sms_disclosure().text, sms_disclosure().version)
    assert row.ip == "127.0.0.1" and "Chrome" in row.user_agent
