"""The agent's workspace (issue 18): the honest waiting clock, due call backs first,
"take the next conversation" under a race, presence driving routing, the home's counts,
actions answering JSON in place, the panes fragment and the reply box's default."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from console import replies, workspace
from conversations import journal
from conversations.models import AgentProfile, Case, Conversation, Event
from routing import assignment
from routing.callbacks import raise_due_call_backs, schedule_call_back
from tests.console.test_console_inbox import listed, waiting

pytestmark = pytest.mark.django_db
INBOX = "admin:conversations_inbox"
FETCH = {"HTTP_X_REQUESTED_WITH": "fetch"}


def page_url(conversation):
    return reverse("admin:conversations_conversation_change", args=[conversation.pk])


def test_an_automatic_reply_leaves_the_clock_running_and_a_persons_answer_stops_it(client, agent):
    client.force_login(agent)
    conversation = waiting("Dana", minutes_ago=90)
    customer = conversation.customer
    journal.record(  # the after-hours acknowledgement: out, but nobody wrote it
        customer=customer,
        channel="sms",
        kind="message",
        direction="out",
        body="Thanks! We open at 9.",
        occurred_at=timezone.now() - timedelta(minutes=89),
    )

    response = client.get(reverse(INBOX))
    (row,) = response.context["rows"]
    assert row.waiting_since is not None and row.automatic_only
    page = response.content.decode()
    assert "automatic reply only" in page and "1\xa0hour" in page

    journal.record(
        customer=customer,
        channel="sms",
        kind="message",
        direction="out",
        body="Hi Dana, yes it is.",
        author=agent,
    )
    (row,) = client.get(reverse(INBOX)).context["rows"]
    assert row.waiting_since is None
    assert "answered" in client.get(reverse(INBOX)).content.decode()


def test_a_due_call_back_goes_to_the_top_of_the_hot_list(client, agent):
    client.force_login(agent)
    waiting("Hot for an hour", minutes_ago=60, hot=True)
    waiting("Hot for half an hour", minutes_ago=30, hot=True)
    caller = waiting("Booked a call", minutes_ago=1)
    slot = timezone.now() + timedelta(hours=1)
    schedule_call_back(customer=caller.customer, slot=slot, time_zone="UTC")
    assert listed(client, hot=1) == ["Hot for an hour", "Hot for half an hour"]

    assert raise_due_call_backs(now=slot) == 1

    assert listed(client, hot=1) == ["Booked a call", "Hot for an hour", "Hot for half an hour"]
    assert listed(client)[0] == "Booked a call"
    assert "call back due" in client.get(reverse(INBOX)).content.decode()


def test_the_home_counts_the_queues(client, agent):
    client.force_login(agent)
    waiting("Mine", minutes_ago=3, assignee=agent)
    waiting("Nobody's", minutes_ago=2)
    waiting("Hot", minutes_ago=1, hot=True)

    counts = client.get(reverse("admin:conversations_home_counts")).json()
    home = client.get(reverse("admin:index")).content.decode()

    assert counts["mine"] == 1 and counts["unassigned"] == 2 and counts["hot"] == 1
    assert counts["call_backs_due"] == 0
    assert "My queue" in home and 'data-count="unassigned">2<' in home
    assert "All models" in home  # the stock model list, below


def test_staff_without_the_console_see_the_stock_admin_home(client, django_user_model):
    clerk = django_user_model.objects.create_user("clerk", is_staff=True)
    client.force_login(clerk)
    home = client.get(reverse("admin:index")).content.decode()
    assert "My queue" not in home
    assert client.get(reverse("admin:conversations_home_counts")).status_code == 403


def test_an_away_agent_gets_no_new_case_and_an_available_one_does(client, agent):
    client.force_login(agent)
    url = reverse("admin:conversations_presence")
    case = Case.objects.get(pk=waiting("Dana", minutes_ago=5).current_case_id)

    answer = client.post(url, {"available": "0"}, **FETCH).json()
    assert answer == {"ok": True, "available": False, "message": answer["message"]}
    assert not AgentProfile.objects.get(user=agent).available
    assert assignment.assign(case, reason="test") is None

    assert client.post(url, {"available": "1"}, **FETCH).json()["available"] is True
    assert assignment.assign(case, reason="test") == agent


def test_presence_refuses_a_malformed_value(client, agent):
    client.force_login(agent)
    response = client.post(reverse("admin:conversations_presence"), {"available": "maybe"})
    assert response.status_code == 400 and b"available: 1" in response.content
    assert not AgentProfile.objects.filter(user=agent).exists()


@pytest.mark.parametrize(
    ("next_", "lands_on"),
    [
        ("/admin/conversations/conversation/inbox/", "/admin/conversations/conversation/inbox/"),
        ("https://evil.example/login", "/admin/"),  # a forged form must not send agents away
        ("//evil.example/", "/admin/"),
    ],
)
def test_presence_goes_back_to_a_page_of_this_site_only(client, agent, next_, lands_on):
    client.force_login(agent)

    response = client.post(
        reverse("admin:conversations_presence"), {"available": "1", "next": next_}
    )

    assert response.status_code == 302
    assert response["Location"] == lands_on


def test_actions_sent_in_place_answer_json(client, agent):
    client.force_login(agent)
    conversation = waiting("Dana", minutes_ago=5)
    note = reverse("admin:conversations_note", args=[conversation.pk])

    assert client.post(note, {"body": "VIP"}, **FETCH).json()["ok"] is True
    refused = client.post(note, {"body": "  "}, **FETCH).json()
    assert refused["ok"] is False and refused["message"] == "The note is empty."
    resolved = client.post(
        reverse("admin:conversations_resolve", args=[conversation.pk]), **FETCH
    ).json()
    assert resolved["ok"] is True and "resolved" in resolved["message"]
    assert Case.objects.get(pk=conversation.current_case_id).status == "resolved"
    # without the script: back to the page, as before
    plain = client.post(note, {"body": "again"})
    assert plain.status_code == 302 and plain.url == page_url(conversation)


def test_the_panes_fragment_holds_the_timeline_and_panel_only(client, agent):
    client.force_login(agent)
    conversation = waiting("Dana", minutes_ago=5)

    fragment = client.get(page_url(conversation), {"fragment": "panes"}).content.decode()
    full = client.get(page_url(conversation)).content.decode()

    assert 'id="timeline-events"' in fragment and "Customer context" in fragment
    assert "inbox-table" not in fragment and "<html" not in fragment
    assert "inbox-table" in full and 'id="timeline-events"' in full
    assert 'id="nav-sidebar"' not in full  # the model menu is hidden on the workspace


def test_the_reply_box_starts_on_the_web_chat_only_while_the_widget_is_open(client, agent):
    from conversations.identities import link_identity

    client.force_login(agent)
    conversation = waiting("Dana", minutes_ago=30)  # she texted
    link_identity(conversation.customer, "phone", "+14155550132")
    link_identity(conversation.customer, "visitor", "v-dana")
    for _ in range(3):  # and chats on the web most
        journal.record(
            customer=conversation.customer,
            channel="web",
            kind="message",
            direction="in",
            body="hello",
            occurred_at=timezone.now() - timedelta(minutes=20),
        )
    journal.record(
        customer=conversation.customer,
        channel="sms",
        kind="message",
        direction="in",
        body="texting now",
        occurred_at=timezone.now() - timedelta(minutes=15),
    )
    response = client.get(page_url(conversation))
    assert response.context["default_channel"] == "sms"
    assert "not on the web chat now" in response.context["default_channel_why"]

    replies.widget_opened(conversation.customer, channel="web")  # the widget's presence hook

    response = client.get(page_url(conversation))
    assert response.context["default_channel"] == "web"
    assert response.context["default_channel_why"] == "The customer has the web chat open now."


def test_take_next_gives_the_longest_waiting_unassigned_conversation(client, agent, teammate):
    client.force_login(agent)
    waiting("Bob's", minutes_ago=50, assignee=teammate)
    oldest = waiting("Oldest", minutes_ago=40)
    waiting("Newer", minutes_ago=10)
    url = reverse("admin:conversations_take_next")

    answer = client.post(url, **FETCH).json()

    assert answer["ok"] and answer["conversation"] == oldest.pk
    assert Case.objects.get(pk=oldest.current_case_id).assignee == agent
    assert answer["url"] == page_url(oldest)


@pytest.mark.django_db(transaction=True)
def test_two_agents_taking_the_next_conversation_at_once_get_different_ones(
    concurrently, agent, teammate
):
    first = waiting("First", minutes_ago=40)
    second = waiting("Second", minutes_ago=30)

    taken = concurrently(workspace.take_next, [(agent,), (teammate,)])

    assert sorted(c.pk for c in taken) == sorted([first.pk, second.pk])
    owners = {Conversation.objects.get(pk=c.pk).current_case.assignee.username for c in taken}
    assert owners == {"alice", "bob"}
    assigned = Event.objects.filter(kind="case", data__action="assign")
    assert sorted(e.data["previous"] is None for e in assigned) == [True, True]


def test_the_timeline_shows_one_line_per_visit(client, agent):
    """Page and product views of one visit arrive as one `visit` line (console/presenter.py)."""
    client.force_login(agent)
    conversation = waiting("Browsing", minutes_ago=5)
    for kind, data in [
        ("page_view", {"url": "https://shop.example.com/t900", "title": "T900"}),
        ("product_view", {"url": "https://shop.example.com/t900", "sku": "T900", "name": "T900"}),
        ("page_view", {"url": "https://shop.example.com/returns", "title": "Returns"}),
    ]:
        journal.record(
            customer=conversation.customer, channel="api", kind=kind, direction="in", data=data
        )

    page = client.get(reverse("admin:conversations_conversation_change", args=[conversation.pk]))

    lines = page.context["events_json"]
    assert [line["kind"] for line in lines] == ["message", "visit"]
    assert lines[-1]["body"] == "Browsed 2 pages: T900 (product), Returns"


def test_the_inbox_filters_by_a_store_picked_by_name(client, agent):
    from instore.models import Store

    client.force_login(agent)
    harbor = Store.objects.create(name="Harbor")
    page = client.get(reverse("admin:conversations_inbox"), {"store": harbor.pk})

    text = page.content.decode()
    assert f'<option value="{harbor.pk}" selected>Harbor</option>' in text
    assert "Store id" not in text


def test_the_admin_carries_the_products_name(client, agent):
    client.force_login(agent)
    home = client.get(reverse("admin:index")).content.decode()
    assert "<title>Home | Throughline</title>" in home
    assert "Django administration" not in home
