"""In-store QR codes in a real browser on a phone-sized screen (issue 5, "Tests").

Uses the live server (daphne) and Chromium fixtures of tests/browser/conftest.py.
"""

from __future__ import annotations

import json
import re
import urllib.request
from urllib.parse import unquote, urlencode

import pytest
from django.test import Client
from playwright.sync_api import expect
from twilio.request_validator import RequestValidator

from channels_adapters.webchat.demo import DEMO_PUBLIC_KEY
from conversations.identities import resolve_customer
from conversations.models import Conversation
from conversations.visitors import read_visitor_token
from tests.browser.conftest import agent_socket, receive
from tests.instore.factories import PlacementFactory

pytestmark = pytest.mark.django_db(transaction=True)
TOKEN_KEY = f"throughline:{DEMO_PUBLIC_KEY}:token"
PHONE = {"width": 390, "height": 844}
AUTH_TOKEN = "browser-test-auth-token"
SHOPPER = "+14155550123"


@pytest.fixture
def twilio_env(monkeypatch):
    """The live server checks webhook signatures with this token (set before it starts)."""
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", AUTH_TOKEN)


def scanned(page, base_url: str, code: str):
    """Open the label's URL as a phone's camera app would, and wait for the scan call."""
    with page.expect_response(re.compile(rf"/s/{code}/scan$")) as answer:
        page.goto(f"{base_url}/s/{code}/")
    assert answer.value.status == 200
    expect(page.locator("html")).to_have_attribute("data-scan", "recorded")
    return answer.value.json()


def test_a_shopper_who_chatted_online_scans_a_label_and_the_agent_sees_it_live(
    live_server_url, browser_page, agent
):
    page = browser_page
    page.set_viewport_size(PHONE)
    placement = PlacementFactory()

    # given: on her phone she asked about the treadmill in the demo shop's chat
    page.goto(f"{live_server_url}/widget/demo/")
    page.get_by_role("button", name=re.compile("^Open chat")).click()
    page.get_by_label("Message", exact=True).fill("Does the T900 fold flat?")
    page.get_by_label("Message", exact=True).press("Enter")
    dialog = page.get_by_role("dialog", name=re.compile("Chat with"))
    expect(dialog.get_by_text(re.compile("Delivered"))).to_be_visible()
    visitor_id = read_visitor_token(page.evaluate(f"localStorage.getItem('{TOKEN_KEY}')"))
    conversation = resolve_customer("visitor", visitor_id).conversation

    with agent_socket(live_server_url, agent) as agent_ws:
        agent_ws.send(
            json.dumps({"type": "subscribe", "conversation": conversation.pk, "after_seq": 0})
        )
        receive(agent_ws, "subscribed")

        # when, in the store, she scans the label on the treadmill
        answer = scanned(page, live_server_url, placement.code)

        # then the agent sees the scan arrive in her conversation
        event = receive(agent_ws, "event")
        while event["event"]["kind"] != "scan":
            event = receive(agent_ws, "event")
    assert event["event"]["conversation"] == conversation.pk
    assert event["event"]["body"] == "Scanned: T900 Folding Treadmill at Downtown"
    assert event["event"]["data"]["store"]["name"] == "Downtown"
    assert read_visitor_token(answer["token"]) == visitor_id

    # the page fits the phone, and shows the product, the store and three ways on
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    expect(page.get_by_role("heading", name="T900 Folding Treadmill")).to_be_visible()
    expect(page.get_by_text("Downtown", exact=True)).to_be_visible()
    text_us = page.get_by_role("link", name="Text us")
    expect(text_us).to_have_attribute("href", re.compile(rf"Ref%20{answer['reference']}$"))
    expect(page.get_by_role("link", name="Call the store")).to_have_attribute(
        "href", "tel:+14155550100"
    )

    # and "Chat" opens the widget on the same conversation, her question still there
    page.get_by_role("button", name="Chat with us").click()
    dialog = page.get_by_role("dialog", name=re.compile("Chat with"))
    expect(dialog.get_by_text("Does the T900 fold flat?")).to_have_count(1)


def test_an_anonymous_scan_then_the_prefilled_text_end_in_one_conversation(
    twilio_env, live_server_url, browser_page
):
    page = browser_page
    page.set_viewport_size(PHONE)
    placement = PlacementFactory()

    # a phone that never used the widget scans the label
    answer = scanned(page, live_server_url, placement.code)
    href = page.get_by_role("link", name="Text us").get_attribute("href")
    assert href.startswith("sms:+14155550100?&body=")
    body = unquote(href.split("&body=", 1)[1])
    assert body.endswith(f"Ref {answer['reference']}")

    # and sends the prefilled text: Twilio posts it to the webhook, signed
    form = {
        "MessageSid": "SM" + "5" * 32,
        "From": SHOPPER,
        "To": "+14155550100",
        "Body": body,
        "NumMedia": "0",
    }
    # the server checks signatures against its PUBLIC_BASE_URL (http://127.0.0.1)
    signature = RequestValidator(AUTH_TOKEN).compute_signature(
        "http://127.0.0.1/hooks/twilio/sms/", form
    )
    request = urllib.request.Request(  # noqa: S310  (our own live server on 127.0.0.1)
        f"{live_server_url}/hooks/twilio/sms/",
        data=urlencode(form).encode(),
        headers={
            "X-Twilio-Signature": signature,
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        assert response.status == 200

    [conversation] = Conversation.objects.exclude(status="merged")
    kinds = set(conversation.events.values_list("channel", "kind"))
    assert {("instore", "scan"), ("sms", "message")} <= kinds
    visitor_id = read_visitor_token(answer["token"])
    assert resolve_customer("visitor", visitor_id) == resolve_customer("phone", SHOPPER)


def test_the_label_sheet_prints_one_page_per_sheet_on_a4_and_letter(
    live_server_url, browser_page, django_user_model
):
    page = browser_page
    placement = PlacementFactory()
    for n in range(13):  # 14 labels: two sheets of 3 x 4
        PlacementFactory(store=placement.store, label=f"shelf {n}")
    staff = Client()
    staff.force_login(django_user_model.objects.create_superuser("root", password="pw-root"))
    page.context.add_cookies(
        [{"name": "sessionid", "value": staff.cookies["sessionid"].value, "url": live_server_url}]
    )
    # PDF points: A4 is 595 x 842, US Letter 612 x 792
    for paper, media_box in [("a4", (595, 842)), ("letter", (612, 792))]:
        page.goto(
            f"{live_server_url}/admin/instore/store/labels/?paper={paper}"
            f"&store={placement.store.pk}"
        )
        expect(page.locator(".label")).to_have_count(14)

        pdf = page.pdf(prefer_css_page_size=True)

        pages = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
        assert len(pages) == 2, paper
        assert {(round(float(w)), round(float(h))) for w, h in pages} == {media_box}, paper
