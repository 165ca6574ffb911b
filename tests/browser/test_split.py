"""Splitting a merge from the console in a real browser: "Split…" by the timeline, the
preview of what returns where, the split."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from conversations import journal
from conversations.identities import merge_customers
from conversations.models import Customer, Merge
from tests.browser.test_console import log_in
from tests.factories import CustomerFactory, IdentityFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_agent_splits_a_wrong_merge(live_server_url, browser_page, agent):
    page = browser_page
    older = CustomerFactory(display_name="Dana Scully")
    newer = CustomerFactory(display_name="Fox Mulder")
    IdentityFactory(customer=newer, kind="email", value="fox@example.com")
    journal.record(customer=newer, channel="sms", kind="message", direction="in", body="I'm Fox")
    merge_customers(older, newer)
    journal.record(customer=older, channel="web", kind="message", direction="in", body="Fox again")

    log_in(page, live_server_url, agent)
    page.goto(f"{live_server_url}/admin/conversations/conversation/{older.conversation.pk}/change/")
    expect(page.locator("#timeline")).to_contain_text("Merged customer")  # the live timeline
    page.get_by_role("link", name="Split…").click()

    expect(page.get_by_text("fox@example.com")).to_be_visible()
    page.get_by_label("Fox again", exact=False).check()
    page.get_by_role("button", name="Split these two customers").click()

    expect(page.get_by_text("has their own conversation again")).to_be_visible()
    assert Customer.objects.get(pk=newer.pk).merged_into_id is None
    assert Merge.objects.get().unmerged_by == "console:alice"
    assert newer.conversation.events.filter(body="Fox again").exists()
