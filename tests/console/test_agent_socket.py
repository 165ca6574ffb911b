import asyncio
import sys

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from config.asgi import application
from conversations import journal
from tests.conftest import subprocess_env
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)
ORIGIN = (b"origin", b"http://localhost:8000")


def session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def connect(user=None, origin=ORIGIN):
    headers = [origin]
    if user is not None:
        headers.append((b"cookie", await sync_to_async(session_cookie)(user)))
    communicator = WebsocketCommunicator(application, "/ws/agent/", headers=headers)
    connected, code = await communicator.connect(timeout=5)
    return communicator, connected, code


async def receive_until(communicator, wanted_type, timeout=5):
    async with asyncio.timeout(timeout):
        while True:
            message = await communicator.receive_json_from(timeout=timeout)
            if message["type"] == wanted_type:
                return message


def say(customer, body):
    return journal.record(
        customer=customer, channel="sms", kind="message", direction="in", body=body
    )


async def test_it_turns_away_anonymous_and_non_staff_users(outsider):
    for user in (None, outsider):
        communicator, connected, _ = await connect(user)
        assert not connected
        await communicator.disconnect()


async def test_it_turns_away_a_foreign_origin(agent):
    communicator, connected, _ = await connect(agent, origin=(b"origin", b"https://evil.example"))

    assert not connected
    await communicator.disconnect()


async def test_a_subscriber_gets_missed_events_then_live_ones_without_repeats(agent):
    customer = await sync_to_async(CustomerFactory)()
    for n in range(3):
        await sync_to_async(say)(customer, f"before {n}")
    conversation_id = await sync_to_async(lambda: customer.conversation.pk)()
    communicator, connected, _ = await connect(agent)
    assert connected

    await communicator.send_json_to(
        {"type": "subscribe", "conversation": conversation_id, "after_seq": 1}
    )
    replayed = [await communicator.receive_json_from(timeout=5) for _ in range(3)]
    await sync_to_async(say)(customer, "live")
    live = await receive_until(communicator, "event")

    assert [m["event"]["seq"] for m in replayed[:2]] == [2, 3]
    assert replayed[2] == {"type": "subscribed", "conversation": conversation_id, "complete": True}
    assert (live["event"]["seq"], live["event"]["body"]) == (4, "live")
    await communicator.disconnect()


async def test_a_subscription_to_a_missing_conversation_is_refused(agent):
    communicator, _, _ = await connect(agent)

    await communicator.send_json_to({"type": "subscribe", "conversation": 999999, "after_seq": 0})
    reply = await communicator.receive_json_from(timeout=5)
    await communicator.send_json_to({"type": "subscribe", "conversation": "x"})
    malformed = await communicator.receive_json_from(timeout=5)

    assert reply["type"] == "error" and reply["conversation"] == 999999
    assert malformed["type"] == "error"
    await communicator.disconnect()


async def test_a_subscriber_receives_an_event_recorded_by_another_process(agent):
    customer = await sync_to_async(CustomerFactory)()
    conversation_id = await sync_to_async(lambda: customer.conversation.pk)()
    communicator, _, _ = await connect(agent)
    await communicator.send_json_to(
        {"type": "subscribe", "conversation": conversation_id, "after_seq": 0}
    )
    await receive_until(communicator, "subscribed")

    script = (
        "from conversations import journal; from conversations.models import Customer; "
        f"journal.record(customer=Customer.objects.get(pk={customer.pk}), channel='sms', "
        "kind='message', direction='in', body='from another process')"
    )
    env = await sync_to_async(subprocess_env)()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "manage.py", "shell", "-c", script, env=env, cwd=settings.BASE_DIR
    )
    assert await process.wait() == 0
    first = await communicator.receive_json_from(timeout=10)
    second = await communicator.receive_json_from(timeout=10)
    by_type = {first["type"]: first, second["type"]: second}
    event, inbox = by_type["event"], by_type["inbox"]

    assert event["event"]["body"] == "from another process"
    assert inbox["conversation"]["conversation"] == conversation_id
    await communicator.disconnect()


async def test_a_merge_tells_subscribers_to_resync(agent):
    from conversations.identities import merge_customers

    older, newer = await sync_to_async(CustomerFactory.create_batch)(2)
    newer_conversation = await sync_to_async(lambda: newer.conversation.pk)()
    older_conversation = await sync_to_async(lambda: older.conversation.pk)()
    communicator, _, _ = await connect(agent)
    await communicator.send_json_to(
        {"type": "subscribe", "conversation": newer_conversation, "after_seq": 0}
    )
    await receive_until(communicator, "subscribed")

    await sync_to_async(merge_customers)(older, newer)
    resync = await receive_until(communicator, "resync")

    assert resync == {
        "type": "resync",
        "conversation": newer_conversation,
        "moved_to": older_conversation,
    }
    await communicator.disconnect()


async def test_agents_on_one_conversation_see_each_other_and_who_types(agent, teammate):
    customer = await sync_to_async(CustomerFactory)()
    await sync_to_async(say)(customer, "hello")
    conversation_id = await sync_to_async(lambda: customer.conversation.pk)()
    subscribe = {"type": "subscribe", "conversation": conversation_id, "after_seq": 1}
    alice, connected, _ = await connect(agent)
    assert connected
    await alice.send_json_to(subscribe)
    await receive_until(alice, "subscribed")

    bob, connected, _ = await connect(teammate)
    assert connected
    await bob.send_json_to(subscribe)

    # each learns of the other, whoever came first
    assert (await receive_until(alice, "viewers"))["agents"] == ["bob"]
    assert (await receive_until(bob, "viewers"))["agents"] == ["alice"]

    await bob.send_json_to({"type": "typing", "conversation": conversation_id, "typing": True})
    typing = await receive_until(alice, "typing")
    assert (typing["from"], typing["name"], typing["typing"]) == ("agent", "bob", True)

    # bob leaves: alice is alone again
    await bob.disconnect()
    assert (await receive_until(alice, "viewers"))["agents"] == []
    await alice.disconnect()
