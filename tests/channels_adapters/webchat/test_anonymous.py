"""Anonymous visitors cost a signed token only, until they write something worth keeping."""

import pytest
from channels.db import database_sync_to_async as sync_to_async
from django.test import Client

from channels_adapters.webchat import inbound, outbound
from conversations.models import Conversation, Customer, Event, Identity
from conversations.visitors import read_visitor_token

from .conftest import open_widget, post, receive_until, visitor


def rows() -> tuple[int, int, int, int]:
    return (
        Customer.objects.count(),
        Identity.objects.count(),
        Conversation.objects.count(),
        Event.objects.count(),
    )


@pytest.mark.long
@pytest.mark.django_db
def test_300_anonymous_sessions_make_no_customer(site, settings):
    settings.ADDRESS_RATE_LIMITS = {**settings.ADDRESS_RATE_LIMITS, "session": 0}  # off here

    tokens = {
        post(Client(), "/widget/session", {"site": site.public_key}).json()["token"]
        for _ in range(300)
    }

    assert len({read_visitor_token(token) for token in tokens}) == 300
    assert rows() == (0, 0, 0, 0)


@pytest.mark.django_db
def test_a_returning_anonymous_visitor_keeps_their_token_and_costs_nothing(site):
    first = post(Client(), "/widget/session", {"site": site.public_key}).json()

    again = post(Client(), "/widget/session", {"site": site.public_key, "token": first["token"]})

    assert read_visitor_token(again.json()["token"]) == read_visitor_token(first["token"])
    assert (again.json()["messages"], again.json()["cursor"]) == ([], 0)
    assert rows() == (0, 0, 0, 0)


@pytest.mark.django_db
def test_a_first_message_makes_exactly_one_customer(site):
    token = post(Client(), "/widget/session", {"site": site.public_key}).json()["token"]
    visitor_id = read_visitor_token(token)

    inbound.receive_message(visitor_id=visitor_id, client_id="c-1", body="hello")
    inbound.receive_message(visitor_id=visitor_id, client_id="c-2", body="anyone?")

    [identity] = Identity.objects.all()
    assert (identity.kind, identity.value) == ("visitor", visitor_id)
    assert rows() == (1, 1, 1, 2)


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_messages_from_one_visitor_make_one_customer(concurrently):
    _, token = visitor()
    visitor_id = read_visitor_token(token)

    events = concurrently(
        lambda n: inbound.receive_message(visitor_id=visitor_id, client_id=f"c-{n}", body="hi"),
        [(n,) for n in range(8)],
    )

    assert Customer.objects.count() == 1
    assert len({event.conversation_id for event in events}) == 1
    assert Event.objects.filter(kind="message").count() == 8


@pytest.mark.django_db
def test_a_refused_identify_makes_no_customer(site):
    token = post(Client(), "/widget/session", {"site": site.public_key}).json()["token"]

    refused = post(
        Client(),
        "/widget/identify",
        {"site": site.public_key, "token": token, "userId": "42", "hash": "0" * 64},
    )

    assert refused.status_code == 422
    assert rows() == (0, 0, 0, 0)


@pytest.mark.django_db(transaction=True)
async def test_an_anonymous_socket_writes_nothing_until_its_first_message(site, agent):
    # given an anonymous visitor's socket, and a second tab of the same visitor
    visitor_id, token = visitor()
    widget, ready, replay = await open_widget(site, token)
    other_tab, _, _ = await open_widget(site, token)
    assert (ready["cursor"], replay) == (0, [])
    assert await sync_to_async(rows)() == (0, 0, 0, 0)

    # when the first tab writes
    await widget.send_json_to({"type": "message", "id": "c-1", "body": "Is the T900 quiet?"})
    ack = await receive_until(widget, "ack")

    # then one customer holds it, and both tabs now follow the conversation
    assert ack["message"]["body"] == "Is the T900 quiet?"
    assert (await sync_to_async(rows)())[:3] == (1, 1, 1)
    seen_by_other_tab = await receive_until(other_tab, "message")
    assert seen_by_other_tab["message"]["body"] == "Is the T900 quiet?"
    await receive_until(widget, "ready")  # joined its new conversation
    preferences = await receive_until(widget, "preferences")  # a customer now: their page
    assert preferences["url"].endswith("/preferences/")
    customer = await sync_to_async(inbound.visitor_customer)(visitor_id)
    await sync_to_async(outbound.reply_on_web)(customer=customer, author=agent, body="Very.")
    assert (await receive_until(widget, "message"))["message"]["body"] == "Very."
    assert (await receive_until(other_tab, "message"))["message"]["body"] == "Very."
    await widget.disconnect()
    await other_tab.disconnect()
