"""The "Contact us" email form (contact-email.js) in a real browser: what the visitor
writes lands in the conversation of her widget visitor (docs/email.md)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from channels_adapters.webchat.demo import DEMO_PUBLIC_KEY
from conversations.models import Event, Identity
from conversations.visitors import read_visitor_token

pytestmark = pytest.mark.django_db(transaction=True)
TOKEN_KEY = f"throughline:{DEMO_PUBLIC_KEY}:token"


def test_the_contact_us_email_form_lands_in_the_visitors_conversation(
    live_server_url, browser_page
):
    page = browser_page
    page.goto(f"{live_server_url}/widget/demo/")
    page.evaluate(
        """([src, site]) => {
            const host = document.createElement("div");
            host.setAttribute("data-throughline-email-form", "");
            document.body.appendChild(host);
            const script = document.createElement("script");
            script.src = src;
            script.setAttribute("data-site", site);
            document.body.appendChild(script);
        }""",
        [f"{live_server_url}/static/webchat/contact-email.js", DEMO_PUBLIC_KEY],
    )
    form = page.locator("form.throughline-email-form")
    form.get_by_label("Your email").fill("dana.rivera@gmail.com")
    form.get_by_label("Subject").fill("Treadmill delivery")
    form.get_by_label("Message").fill("Can it come on Saturday?")
    form.get_by_role("button", name="Send").click()
    expect(form.get_by_role("status")).to_have_text("Thanks! We will answer by email.")

    event = Event.objects.get(channel="email")
    assert event.body == "Can it come on Saturday?"
    assert event.data["subject"] == "Treadmill delivery"
    visitor_id = read_visitor_token(page.evaluate(f"localStorage.getItem('{TOKEN_KEY}')"))
    visitor = Identity.objects.get(kind="visitor", value=visitor_id)
    assert visitor.customer_id == event.conversation.customer_id
    assert Identity.objects.get(kind="email").customer_id == visitor.customer_id
