"""The agent's workspace in a real browser against daphne (issue 18, "Done when"): the
three-pane flow without a page load (take the next conversation, reply by SMS, a note,
resolve, move on), collision detection between two agents, the home's live counts and
presence, and the seeded demo's context panel.

With THROUGHLINE_SCREENSHOTS=1 the tests also save the screenshots docs/console.md shows
(docs/img/); normal runs leave them alone.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from conversations import journal
from conversations.identities import resolve_customer
from conversations.models import AgentProfile, Case, Conversation, Customer, Event, Outbox
from tests.browser.test_console_connection import log_in

pytestmark = pytest.mark.django_db(transaction=True)
INBOX = "/admin/conversations/conversation/inbox/"
CONVERSATION = "/admin/conversations/conversation/{}/change/"
SCREENSHOTS = Path(settings.BASE_DIR) / "docs" / "img"


def screenshot(page, name: str) -> None:
    """Save docs/img/<name>.png when THROUGHLINE_SCREENSHOTS=1 (the docs' pictures)."""
    if os.environ.get("THROUGHLINE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def texted(name: str, phone: str, body: str, *, minutes_ago: int, time_zone: str = "") -> Customer:
    customer = resolve_customer("phone", phone, display_name=name)
    if time_zone:
        Customer.objects.filter(pk=customer.pk).update(time_zone=time_zone)
    journal.record(
        customer=customer,
        channel="sms",
        kind="message",
        direction="in",
        body=body,
        occurred_at=timezone.now() - timedelta(minutes=minutes_ago),
    )
    return customer


def conversation_of(customer: Customer) -> Conversation:
    return Conversation.objects.get(customer=customer)


def test_take_reply_note_resolve_and_move_on_without_a_page_load(
    live_server_url, browser_page, agent
):
    page = browser_page
    page.set_viewport_size({"width": 1440, "height": 900})
    dana = texted(
        "Dana Scully",
        "+14155550132",
        "Is the T900 in stock? https://shop.example.com/t900. Or javascript:alert(1)",
        minutes_ago=40,
        time_zone="Asia/Tokyo",
    )
    journal.record(  # the after-hours acknowledgement: automatic, not an answer
        customer=dana,
        channel="sms",
        kind="message",
        direction="out",
        body="Thanks! We open at 9 and answer then.",
        occurred_at=timezone.now() - timedelta(minutes=39),
    )
    fox = texted("Fox Mulder", "+14155550177", "Where is my order?", minutes_ago=20)
    log_in(page, agent, live_server_url)
    page.goto(f"{live_server_url}{INBOX}")
    workspace = page.locator("#workspace")
    expect(workspace).to_have_attribute("data-connected", "1")
    rows = page.locator("#inbox-rows")
    dana_row = rows.locator(f"tr[data-conversation='{conversation_of(dana).pk}']")
    expect(dana_row).to_contain_text("automatic reply only")
    expect(dana_row).to_contain_text("Is the T900 in stock?")  # her last words
    page.evaluate("window.sameDocument = true")

    # take the next conversation: the longest waiting unassigned one, opened in place
    page.get_by_role("button", name="Take the next conversation").click()
    conversation = page.locator("#console-conversation")
    expect(conversation).to_have_attribute("data-conversation", str(conversation_of(dana).pk))
    expect(page).to_have_url(re.compile(rf"/conversation/{conversation_of(dana).pk}/change/"))
    timeline = page.locator("#timeline")
    link = timeline.get_by_role("link", name="https://shop.example.com/t900")
    expect(link).to_have_attribute("rel", "noopener noreferrer nofollow")
    expect(link).to_have_attribute("target", "_blank")
    expect(timeline).to_contain_text("javascript:alert(1)")
    expect(timeline.locator("a[href^='javascript']")).to_have_count(0)
    expect(timeline.locator("li.automatic .badge.auto")).to_have_text("automatic")
    expect(timeline.locator("li.ch-sms").first.locator(".meta")).to_contain_text("(customer: ")
    assert Case.objects.get(pk=conversation_of(dana).current_case_id).assignee == agent

    # reply by SMS (where she can be reached now), in place
    expect(page.get_by_label("Reply on")).to_have_value("sms")
    box = page.get_by_role("textbox", name="Message")
    box.fill("It is: 58 dB at full speed.")
    box.press("Control+Enter")
    expect(page.locator("#ws-flash")).to_contain_text("Sent by SMS.")
    expect(timeline.locator("li.ch-sms[data-direction=out]").last).to_contain_text("58 dB")
    expect(dana_row.locator("td.waiting")).to_have_text("answered", timeout=15_000)

    # a private note (n), in place
    box.press("Escape")
    page.keyboard.press("n")
    box.fill("VIP: bought two last year")
    box.press("Control+Enter")
    expect(timeline.locator("li.k-note")).to_contain_text("VIP: bought two last year")
    screenshot(page, "workspace")

    # resolve (e): she leaves the list; move on (j) to the next conversation
    box.press("Escape")
    page.keyboard.press("e")
    expect(page.locator("#ws-flash")).to_contain_text("resolved")
    expect(dana_row).to_have_count(0, timeout=15_000)
    page.keyboard.press("j")
    expect(conversation).to_have_attribute("data-conversation", str(conversation_of(fox).pk))
    expect(timeline).to_contain_text("Where is my order?")

    assert page.evaluate("window.sameDocument") is True  # never a full page load
    assert Outbox.objects.filter(event__conversation=conversation_of(dana)).count() == 1
    assert Event.objects.filter(conversation=conversation_of(dana), kind="note").count() == 1
    assert Case.objects.get(conversation=conversation_of(dana)).status == "resolved"


def test_two_agents_see_each_other_on_a_conversation_and_who_is_typing(
    live_server_url, browser_page, agent, teammate
):
    alice = browser_page
    alice.set_viewport_size({"width": 1440, "height": 900})
    customer = texted("Dana Scully", "+14155550132", "Hello?", minutes_ago=5)
    url = f"{live_server_url}{CONVERSATION.format(conversation_of(customer).pk)}"
    log_in(alice, agent, live_server_url)
    alice.goto(url)
    expect(alice.locator("#workspace")).to_have_attribute("data-connected", "1")
    expect(alice.locator("#viewers")).to_have_text("")

    bobs = alice.context.browser.new_context(viewport={"width": 1200, "height": 900})
    try:
        bob = bobs.new_page()
        log_in(bob, teammate, live_server_url)
        bob.goto(url)
        expect(bob.locator("#workspace")).to_have_attribute("data-connected", "1")

        # each sees the other, whoever came first
        expect(alice.locator("#viewers")).to_have_text("Also open by bob")
        expect(bob.locator("#viewers")).to_have_text("Also open by alice")

        # bob types an answer: alice sees it before she writes one too
        bob.get_by_role("textbox", name="Message").type("On it")
        expect(alice.locator("#typing")).to_have_text("bob is typing…")
        screenshot(alice, "collision")

        # bob leaves: alice is alone again
        bob.close()
        expect(alice.locator("#viewers")).to_have_text("", timeout=15_000)
    finally:
        bobs.close()


def test_the_home_counts_live_and_the_presence_toggle_drives_routing(
    live_server_url, browser_page, agent
):
    page = browser_page
    page.set_viewport_size({"width": 1440, "height": 900})
    texted("Dana Scully", "+14155550132", "Hello?", minutes_ago=5)
    log_in(page, agent, live_server_url)
    page.goto(f"{live_server_url}/admin/")
    home = page.locator("#agent-home")
    expect(home).to_have_attribute("data-connected", "1")
    expect(home.locator("[data-count=unassigned]")).to_have_text("1")
    expect(page.get_by_text("All models")).to_be_visible()  # the stock list, folded below

    texted("Fox Mulder", "+14155550177", "Anyone there?", minutes_ago=1)
    expect(home.locator("[data-count=unassigned]")).to_have_text("2", timeout=15_000)
    screenshot(page, "home")

    home.get_by_role("button", name="Become available").click()
    expect(home.locator(".presence-state")).to_have_text("Available")
    assert AgentProfile.objects.get(user=agent).available is True
    home.get_by_role("button", name="Go away").click()
    expect(home.locator(".presence-state")).to_have_text("Away")
    assert AgentProfile.objects.get(user=agent).available is False


def test_the_seeded_demo_fills_the_context_panel(live_server_url, browser_page, agent):
    page = browser_page
    page.set_viewport_size({"width": 1440, "height": 900})
    call_command("seed_demo")
    log_in(page, agent, live_server_url)

    def open_panel(name: str):
        customer = Customer.objects.get(display_name=name, merged_into__isnull=True)
        page.goto(f"{live_server_url}{CONVERSATION.format(customer.conversation.pk)}")
        panel = page.get_by_label("Customer context")
        expect(panel).to_contain_text(name)
        return panel

    # Dana: her cart, the store she stands in and the label she scanned
    panel = open_panel("Dana Whitfield")
    expect(panel.locator("ul.suggestions li").first).to_contain_text("in store")
    expect(panel).to_contain_text("Open cart")
    expect(panel).to_contain_text("T900")
    expect(panel).to_contain_text("In store now")
    expect(panel).to_contain_text("Union Square")
    scan = page.locator("#timeline li.k-scan").last
    expect(scan).to_contain_text("at Union Square")
    expect(scan).not_to_contain_text("undefined")
    screenshot(page, "demo-panel")

    # Marcus: his order
    panel = open_panel("Marcus Chen")
    expect(panel).to_contain_text("Last order")
    expect(panel).to_contain_text("DEMO-1001")
