import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conversations import journal
from conversations.identities import merge_customers, resolve_customer
from conversations.models import Conversation, Event
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def make_history(customer, size: int) -> Conversation:
    """Write `size` events fast (bulk insert with a gap-free seq), as record() would leave them."""
    conversation = customer.conversation
    Event.objects.bulk_create(
        Event(
            conversation=conversation,
            seq=n,
            channel="web",
            direction="in",
            kind="message",
            body=f"m{n}",
        )
        for n in range(1, size + 1)
    )
    conversation.last_seq = size
    conversation.save(update_fields=["last_seq"])
    return conversation


def timeline_url(conversation, **query):
    url = reverse("admin:conversations_conversation_change", args=[conversation.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def queries_for(client, url) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_the_timeline_of_10000_events_costs_the_same_queries_as_one_of_50(client, agent):
    client.force_login(agent)
    short = make_history(CustomerFactory(), 50)
    long = make_history(CustomerFactory(), 10_000)

    short_queries, _ = queries_for(client, timeline_url(short))
    long_queries, page = queries_for(client, timeline_url(long))

    assert long_queries == short_queries
    assert "m10000" in page and "m9951" in page and "m9950" not in page
    assert "?before=9951" in page


def test_older_pages_go_back_by_seq(client, agent):
    client.force_login(agent)
    conversation = make_history(CustomerFactory(), 120)

    _, page = queries_for(client, timeline_url(conversation, before=71))

    assert "m70" in page and "m21" in page and "m71" not in page and "m20" not in page


def test_the_page_shows_the_customer_context(client, agent):
    client.force_login(agent)
    customer = resolve_customer("phone", "+14155550132")
    journal.record(customer=customer, channel="sms", kind="message", direction="in", body="Hi")

    response = client.get(timeline_url(customer.conversation))

    assert "+14155550132" in response.content.decode()
    assert "/ws/agent/" in response.content.decode()


def test_a_merged_conversation_redirects_to_the_survivor(client, agent):
    client.force_login(agent)
    older, newer = CustomerFactory(), CustomerFactory()
    merge_customers(older, newer)

    response = client.get(timeline_url(newer.conversation))

    assert response.status_code == 302
    assert response.url == timeline_url(older.conversation)


def test_agents_find_a_customer_by_a_phone_typed_any_way(client, agent):
    client.force_login(agent)
    dana = resolve_customer("phone", "+14155550132", display_name="Dana")
    resolve_customer("phone", "+14155550199", display_name="Someone else")

    response = client.get(
        reverse("admin:conversations_conversation_changelist"), {"q": "(415) 555-0132"}
    )

    listed = list(response.context["cl"].result_list)
    assert [c.customer for c in listed] == [dana]


def test_non_staff_cannot_open_a_conversation(client, outsider):
    client.force_login(outsider)
    conversation = make_history(CustomerFactory(), 3)

    response = client.get(timeline_url(conversation))

    assert response.status_code == 302  # the admin sends them to its login page
    assert "m3" not in response.content.decode()
