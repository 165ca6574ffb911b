"""The console's inbox: order, filters, views, badges and a constant cost per page."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from conversations import journal
from conversations.models import Case, Conversation, Team
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
INBOX = "admin:conversations_inbox"


def waiting(name, *, minutes_ago, hot=False, **case):
    """A customer whose message has waited `minutes_ago`, with an open case."""
    customer = CustomerFactory(display_name=name)
    journal.record(
        customer=customer,
        channel="sms",
        kind="message",
        direction="in",
        body=f"hello from {name}",
        occurred_at=timezone.now() - timedelta(minutes=minutes_ago),
    )
    conversation = Conversation.objects.get(customer=customer)
    Case.objects.filter(pk=conversation.current_case_id).update(
        priority=Case.Priority.HOT if hot else Case.Priority.NORMAL, **case
    )
    Conversation.objects.filter(pk=conversation.pk).update(priority=10 if hot else 0)
    return conversation


def listed(client, **query):
    response = client.get(reverse(INBOX), query)
    assert response.status_code == 200
    return [row.customer.display_name for row in response.context["rows"]]


def test_hot_cases_come_first_then_the_longest_waiting(client, agent):
    client.force_login(agent)
    waiting("Recent", minutes_ago=1)
    waiting("Old", minutes_ago=30)
    waiting("Hot", minutes_ago=2, hot=True)
    CustomerFactory(display_name="Idle")  # nothing waiting

    assert listed(client) == ["Hot", "Old", "Recent"]


def test_mine_and_unassigned_views(client, agent, teammate):
    client.force_login(agent)
    waiting("Alice's", minutes_ago=3, assignee=agent)
    waiting("Bob's", minutes_ago=2, assignee=teammate)
    waiting("Nobody's", minutes_ago=1)

    assert listed(client, view="mine") == ["Alice's"]
    assert listed(client, view="unassigned") == ["Nobody's"]
    assert listed(client, assignee=teammate.pk) == ["Bob's"]


def test_filters_by_team_intent_channel_and_hot(client, agent):
    client.force_login(agent)
    sales = Team.objects.create(slug="sales", name="Sales")
    waiting("Buyer", minutes_ago=3, team=sales, intent="product evaluation")
    waiting("Other", minutes_ago=2, hot=True)

    assert listed(client, team="sales") == ["Buyer"]
    assert listed(client, intent="product evaluation") == ["Buyer"]
    assert listed(client, hot="1") == ["Other"]
    assert listed(client, channel="sms") == ["Other", "Buyer"]  # hot first
    assert listed(client, channel="web") == []


def test_filter_by_store_finds_customers_who_scanned_there(client, agent):
    client.force_login(agent)
    scanned = waiting("Scanner", minutes_ago=3)
    waiting("Online", minutes_ago=2)
    journal.record(
        customer=scanned.customer,
        channel="instore",
        kind="scan",
        direction="in",
        data={"store": {"id": 7, "name": "Downtown"}, "product": {"name": "T900"}},
    )

    assert listed(client, store="7") == ["Scanner"]


def test_a_snoozed_case_leaves_the_inbox_until_its_time(client, agent):
    client.force_login(agent)
    now = timezone.now()
    waiting("Later", minutes_ago=5, status="snoozed", snoozed_until=now + timedelta(hours=1))
    waiting("Due", minutes_ago=4, status="snoozed", snoozed_until=now - timedelta(minutes=1))

    assert listed(client) == ["Due"]
    assert listed(client, status="snoozed") == ["Later"]


def test_rows_show_unread_and_waiting_badges_and_escape_the_last_message(client, agent):
    client.force_login(agent)
    conversation = waiting("Mallory", minutes_ago=90)
    journal.record(
        customer=conversation.customer,
        channel="web",
        kind="message",
        direction="in",
        body="<img src=x onerror=alert(1)>",
        occurred_at=timezone.now() - timedelta(minutes=80),
    )

    page = client.get(reverse(INBOX)).content.decode()

    assert 'class="badge unread" title="unread messages">2<' in page
    assert "1\xa0hour" in page  # waiting since
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_the_fragment_holds_only_the_rows_for_the_live_refresh(client, agent):
    client.force_login(agent)
    waiting("Dana", minutes_ago=1)

    response = client.get(reverse(INBOX), {"fragment": "1"})

    page = response.content.decode()
    assert "Dana" in page and "<tbody" in page and "<form" not in page


def test_an_inbox_of_2000_costs_the_same_queries_as_one_of_20(client, agent):
    client.force_login(agent)
    for n in range(20):
        waiting(f"c{n}", minutes_ago=n)
    with CaptureQueriesContext(connection) as small:
        assert len(listed(client)) == 20
    for n in range(20, 200):
        waiting(f"c{n}", minutes_ago=n)
    with CaptureQueriesContext(connection) as large:
        assert len(listed(client)) == 50

    assert len(large) == len(small)


def test_page_links_keep_the_filters():
    from console.inbox import InboxFilters

    filters = InboxFilters.from_query({"view": "mine", "assignee": "1", "hot": "1", "page": "x"})

    assert filters.page == 1
    assert filters.as_query(page=2) == "view=mine&assignee=1&hot=1&page=2"
    assert InboxFilters.from_query({"status": "nonsense"}).as_query() == ""


def test_a_customer_message_wakes_a_snoozed_case(client, agent):
    from conversations.cases import snooze_case

    client.force_login(agent)
    conversation = waiting("Sleeper", minutes_ago=5)
    snooze_case(conversation.current_case, until=timezone.now() + timedelta(days=1), by=agent)
    assert listed(client) == []

    journal.record(
        customer=conversation.customer, channel="sms", kind="message", direction="in", body="Hi?"
    )

    assert listed(client) == ["Sleeper"]
    assert listed(client, status="snoozed") == []


def test_the_last_column_shows_what_the_customer_said_not_our_lines(client, agent):
    client.force_login(agent)
    conversation = waiting("Dana", minutes_ago=5)
    customer = conversation.customer
    for direction, kind, body in [
        ("internal", "routing", "Intent: product evaluation (rule Treadmills)"),
        ("internal", "note", "VIP: offer the extended warranty"),
        ("out", "message", "Thanks, an agent will be with you shortly."),
    ]:
        journal.record(
            customer=customer, channel="system", kind=kind, direction=direction, body=body
        )

    response = client.get(reverse(INBOX))

    (row,) = response.context["rows"]
    assert row.last_body == "hello from Dana"
    assert "hello from Dana" in response.content.decode()
