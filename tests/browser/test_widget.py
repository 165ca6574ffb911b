"""The web-chat widget in a real browser, end to end (issue 4, "Tests")."""

from __future__ import annotations

import json
import re

import pytest
from django.db import connections
from playwright.sync_api import expect

from channels_adapters.webchat import inbound, outbound
from channels_adapters.webchat.demo import DEMO_PUBLIC_KEY
from channels_adapters.webchat.identify import user_hash
from channels_adapters.webchat.models import Site
from conversations import journal
from conversations.identities import resolve_customer
from conversations.visitors import read_visitor_token
from tests.browser.conftest import agent_socket, receive

pytestmark = pytest.mark.django_db(transaction=True)
TOKEN_KEY = f"throughline:{DEMO_PUBLIC_KEY}:token"


def test_a_shopper_chats_with_an_agent_from_the_demo_shop(live_server_url, browser_page, agent):
    page = browser_page
    # given: a signed-in shopper of the shop who once texted
    known = resolve_customer("external", "shopper-42")
    journal.record(
        customer=known, channel="sms", kind="message", direction="in", body="Where is order 1001?"
    )

    # the treadmill goes in the cart
    page.goto(f"{live_server_url}/widget/demo/products/t900-folding-treadmill/")
    with page.expect_response(re.compile(r"/widget/track$")) as tracked:
        page.get_by_role("button", name="Add T900 Folding Treadmill to cart").click()
    assert tracked.value.status == 202

    # the widget opens with a greeting about it
    page.get_by_role("button", name=re.compile("^Open chat")).click()
    dialog = page.get_by_role("dialog", name=re.compile("Chat with"))
    expect(dialog).to_be_visible()
    expect(dialog.get_by_text(re.compile(r"T900"))).to_be_visible()
    expect(page.get_by_label("Message", exact=True)).to_be_focused()
    expect(dialog.get_by_role("link", name="What we send you")).to_have_attribute(
        "href", re.compile(r"/c/[^/]+/preferences/$")
    )

    visitor_id = read_visitor_token(page.evaluate(f"localStorage.getItem('{TOKEN_KEY}')"))
    customer = inbound.visitor_customer(visitor_id)
    with agent_socket(live_server_url, agent) as agent_ws:
        agent_ws.send(
            json.dumps(
                {"type": "subscribe", "conversation": customer.conversation.pk, "after_seq": 0}
            )
        )
        receive(agent_ws, "subscribed")

        # the shopper writes; the agent sees it at once
        page.get_by_label("Message", exact=True).fill("Does the T900 fold flat?")
        page.get_by_label("Message", exact=True).press("Enter")
        event = receive(agent_ws, "event")
        while event["event"]["kind"] != "message":
            event = receive(agent_ws, "event")
        assert (event["event"]["body"], event["event"]["channel"]) == (
            "Does the T900 fold flat?",
            "web",
        )
        expect(dialog.get_by_text(re.compile("Delivered"))).to_be_visible()

        # the agent types and replies; the page shows both
        agent_ws.send(
            json.dumps({"type": "typing", "conversation": customer.conversation.pk, "typing": True})
        )
        expect(dialog.get_by_text("Support is typing…")).to_be_visible()
        outbound.reply_on_web(customer=customer, author=agent, body="Yes: it folds to 25 cm.")
        expect(dialog.get_by_text("Yes: it folds to 25 cm.")).to_be_visible()
        # and the widget reports it read
        status = receive(agent_ws, "status")
        assert status["event"]["delivery_status"] == "read"

    # a reload keeps the history, once
    page.reload()
    page.get_by_role("button", name=re.compile("^Open chat")).click()
    expect(dialog.get_by_text("Does the T900 fold flat?")).to_have_count(1)
    expect(dialog.get_by_text("Yes: it folds to 25 cm.")).to_have_count(1)

    # identify with a valid hash: the earlier SMS history joins the conversation
    secret = Site.objects.get(public_key=DEMO_PUBLIC_KEY).secret
    page.evaluate(
        "([id, hash]) => Throughline.identify({userId: id, hash: hash})",
        ["shopper-42", user_hash(secret, "shopper-42")],
    )
    expect(dialog.get_by_text("Where is order 1001?")).to_be_visible()
    expect(dialog.get_by_text("Does the T900 fold flat?")).to_have_count(1)
    assert inbound.visitor_customer(visitor_id).pk == known.pk
    # Connections opened while Playwright's greenlet ran belong to a context the fixtures'
    # teardown cannot see: close them here, or the test database cannot be dropped.
    connections.close_all()


def test_the_widget_fits_a_phone_screen_and_works_from_the_keyboard(live_server_url, browser_page):
    page = browser_page
    page.set_viewport_size({"width": 375, "height": 700})
    page.goto(f"{live_server_url}/widget/demo/")

    launcher = page.get_by_role("button", name=re.compile("^Open chat"))
    launcher.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    box = dialog.bounding_box()
    expect(page.get_by_label("Message", exact=True)).to_be_focused()
    page.keyboard.press("Escape")

    assert box and box["width"] == 375 and box["height"] == 700
    expect(dialog).to_be_hidden()
    expect(launcher).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "false")
