"""The widget as a person expects it (issue 18): no "Continue by SMS" for a shopper we can
text already, a long link shown short and clickable (safely), an offer that never
covers the message box."""

from __future__ import annotations

import re

import pytest
from django.db import connections
from django.utils import timezone
from playwright.sync_api import expect

from channels_adapters.webchat import outbound
from channels_adapters.webchat.demo import DEMO_PUBLIC_KEY
from conversations import journal
from conversations.identities import resolve_customer
from conversations.models import Identity
from conversations.visitors import issue_visitor_token, new_visitor_id

pytestmark = pytest.mark.django_db(transaction=True)
TOKEN_KEY = f"throughline:{DEMO_PUBLIC_KEY}:token"
LONG_LINK = (
    "https://shop.example.com/c/eyJjdXN0b21lciI6NDIsInB1cnBvc2UiOiJjYWxsYmFjayJ9"
    "/callback/?utm_source=after_hours&utm_medium=chat&utm_campaign=acknowledgement&x=1"
)


def returning_shopper(page, live_server_url, *, phone_verified: bool):
    visitor_id = new_visitor_id()
    customer = resolve_customer("visitor", visitor_id, display_name="Dana Whitfield")
    Identity.objects.create(
        customer=customer,
        kind="phone",
        value="+14155550123",
        verified_at=timezone.now() if phone_verified else None,
    )
    journal.record(customer=customer, channel="web", kind="message", direction="in", body="Hi")
    connections.close_all()
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda frame: frames.append(frame)))
    page.goto(f"{live_server_url}/widget/demo/")
    page.evaluate(
        "([key, token]) => localStorage.setItem(key, token)",
        [TOKEN_KEY, issue_visitor_token(visitor_id)],
    )
    page.reload()
    page.get_by_role("button", name=re.compile("^Open chat")).click()
    dialog = page.get_by_role("dialog", name=re.compile("Chat with"))
    expect(dialog.get_by_text("Hi", exact=True)).to_be_visible()
    # the widget's socket has joined the conversation: what is recorded now arrives live
    for _ in range(100):
        if any('"ready"' in str(frame) for frame in frames):
            break
        page.wait_for_timeout(100)
    else:
        pytest.fail("the widget's socket never said it was ready")
    return customer, dialog


def test_a_verified_shopper_is_not_asked_for_her_number(live_server_url, browser_page):
    _, dialog = returning_shopper(browser_page, live_server_url, phone_verified=True)

    expect(dialog.get_by_text("Your number is verified: reply by SMS any time.")).to_be_visible()
    expect(dialog.get_by_role("button", name="Continue by SMS")).to_be_hidden()


def test_a_shopper_with_an_unverified_number_is_still_offered_sms(live_server_url, browser_page):
    _, dialog = returning_shopper(browser_page, live_server_url, phone_verified=False)

    expect(dialog.get_by_role("button", name="Continue by SMS")).to_be_visible()


def test_a_long_link_is_short_and_clickable_and_markup_stays_text(
    live_server_url, browser_page, agent
):
    customer, dialog = returning_shopper(browser_page, live_server_url, phone_verified=False)

    outbound.reply_on_web(
        customer=customer,
        author=agent,
        body=f"We are closed; book a call: {LONG_LINK}. <b>bold</b> javascript:alert(1)",
    )

    link = dialog.get_by_role("link", name=re.compile(r"^shop\.example\.com\/c\/"))
    expect(link).to_be_visible()
    expect(link).to_have_attribute("href", LONG_LINK)
    expect(link).to_have_attribute("rel", "noopener noreferrer nofollow")
    assert len(link.inner_text()) <= 32
    bubble = dialog.locator(".msg.out").last
    expect(bubble).to_contain_text("<b>bold</b> javascript:alert(1)")
    assert bubble.locator("a").count() == 1 and bubble.locator("b").count() == 0


def test_an_offer_sits_inside_the_open_chat_and_never_covers_the_message_box(
    live_server_url, browser_page
):
    page = browser_page
    customer, dialog = returning_shopper(page, live_server_url, phone_verified=False)

    journal.record(
        customer=customer,
        channel="web",
        kind="offer",
        direction="out",
        body="Talk to a treadmill specialist now?",
        data={"offer": 1, "actions": [{"id": "call_now", "label": "Call me now"}]},
    )

    offer = page.get_by_role("dialog", name="Talk to a treadmill specialist now?")
    expect(offer).to_be_visible()
    box, message = offer.bounding_box(), page.get_by_label("Message", exact=True).bounding_box()
    overlaps = not (
        box["y"] + box["height"] <= message["y"]
        or message["y"] + message["height"] <= box["y"]
        or box["x"] + box["width"] <= message["x"]
        or message["x"] + message["width"] <= box["x"]
    )
    assert not overlaps
    # the offer is a pop-up only: no chat bubble repeats it
    expect(dialog.locator(".msg", has_text="treadmill specialist")).to_have_count(0)
    page.get_by_label("Message", exact=True).fill("Still typing fine")
    expect(page.get_by_label("Message", exact=True)).to_have_value("Still typing fine")
