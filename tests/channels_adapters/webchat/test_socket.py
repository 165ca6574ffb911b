"""The shopper socket /ws/widget/: who may connect, what it stores, what it forwards."""

import asyncio
import json
import threading

import pytest
from channels.db import database_sync_to_async as sync_to_async  # closes its connection
from django.db import connections

from channels_adapters.webchat import inbound, outbound
from channels_adapters.webchat.consumers import FLOOD_BURST, FLOOD_RATE
from channels_adapters.webchat.throttle import ManualClock
from conversations import journal
from conversations.models import Event

from .conftest import (
    agent_socket,
    nothing_more,
    open_widget,
    receive_until,
    visitor,
    widget_app_with_clock,
    widget_socket,
)

pytestmark = pytest.mark.django_db(transaction=True)


@sync_to_async
def conversation_of(visitor_id):
    return inbound.visitor_customer(visitor_id).conversation.pk


@sync_to_async
def events_of(conversation_id, **filters):
    return list(
        Event.objects.filter(conversation_id=conversation_id, **filters)
        .order_by("seq")
        .values_list("seq", "channel", "direction", "kind", "body", "source_id")
    )


def record(customer, **fields):
    return journal.record(customer=customer, **fields)


async def test_a_foreign_origin_is_refused(site):
    _, token = visitor()
    # none of these is the site's origin (localhost:4000 would pass ALLOWED_HOSTS)
    for origin in ["https://evil.example", "http://localhost:4000", "null"]:
        communicator, connected, _ = await widget_socket(site.public_key, token, origin=origin)

        assert not connected, origin
        await communicator.disconnect()


async def test_a_shop_on_its_own_domain_is_let_in_by_its_sites_allowed_origins(site):
    # shop.example is in no ALLOWED_HOSTS: only the site's own list vouches for it
    site.allowed_origins = ["https://shop.example"]
    await sync_to_async(site.save)()
    _, token = visitor()

    communicator, connected, _ = await widget_socket(
        site.public_key, token, origin="https://shop.example"
    )

    assert connected
    await communicator.disconnect()


async def test_a_bad_token_or_unknown_site_is_refused(site):
    _, token = visitor()
    for site_key, bad_token in [
        (site.public_key, "forged"),
        (site.public_key, token[:-2] + "xx"),
        (site.public_key, ""),
        ("pk_nope", token),
    ]:
        communicator, connected, _ = await widget_socket(site_key, bad_token)

        assert not connected
        await communicator.disconnect()


async def test_a_shopper_message_is_recorded_once_and_reaches_the_agent_at_once(site, agent):
    visitor_id, token = visitor()
    conversation_id = await conversation_of(visitor_id)
    widget, _, _ = await open_widget(site, token)
    agent_ws = await agent_socket(agent, conversation_id)

    await widget.send_json_to({"type": "message", "id": "c-1", "body": "Is the T900 quiet?"})
    ack = await receive_until(widget, "ack")
    seen = await receive_until(agent_ws, "event")
    # the widget resends after a dropped connection: same client id
    await widget.send_json_to({"type": "message", "id": "c-1", "body": "Is the T900 quiet?"})
    again = await receive_until(widget, "ack")

    stored = await events_of(conversation_id, kind="message")
    assert stored == [
        (ack["message"]["seq"], "web", "in", "message", "Is the T900 quiet?", f"{visitor_id}:c-1")
    ]
    assert again["message"]["seq"] == ack["message"]["seq"]
    assert ack["message"]["client_id"] == "c-1"
    assert (seen["event"]["body"], seen["event"]["channel"]) == ("Is the T900 quiet?", "web")
    await widget.disconnect()
    await agent_ws.disconnect()


async def test_a_reply_reaches_the_open_sockets_while_the_database_thread_is_busy(site, agent):
    # Forwarding a live event needs no database, so no socket may wait for the one
    # thread the consumers' queries run in (base/sockets.py): here a slow query of
    # another socket's holds it until the reply has arrived, or the test gives up.
    visitor_id, token = visitor()
    conversation_id = await conversation_of(visitor_id)
    widget, _, _ = await open_widget(site, token)
    agent_ws = await agent_socket(agent, conversation_id)
    customer = await sync_to_async(inbound.visitor_customer)(visitor_id)
    busy, done = threading.Event(), threading.Event()

    def slow_query():
        busy.set()
        done.wait(timeout=30)

    def reply_from_a_web_worker():  # a thread of its own, as a gunicorn worker is
        try:
            return outbound.reply_on_web(customer=customer, author=agent, body="In stock: 3.")
        finally:
            connections.close_all()

    holding = asyncio.ensure_future(sync_to_async(slow_query)())
    try:
        assert await asyncio.to_thread(busy.wait, 5)
        reply = await asyncio.to_thread(reply_from_a_web_worker)
        shown = await receive_until(widget, "message")
        seen = await receive_until(agent_ws, "event")
    finally:
        done.set()
        await holding

    assert (shown["message"]["seq"], shown["message"]["body"]) == (reply.seq, "In stock: 3.")
    assert (seen["event"]["seq"], seen["event"]["body"]) == (reply.seq, "In stock: 3.")
    await widget.disconnect()
    await agent_ws.disconnect()


async def test_an_agent_reply_typing_and_read_marks_travel_both_ways(site, agent):
    visitor_id, token = visitor()
    conversation_id = await conversation_of(visitor_id)  # a shopper who wrote before
    widget, _, _ = await open_widget(site, token)
    agent_ws = await agent_socket(agent, conversation_id)

    await widget.send_json_to({"type": "typing", "typing": True})
    shopper_typing = await receive_until(agent_ws, "typing")
    await agent_ws.send_json_to({"type": "typing", "conversation": conversation_id, "typing": True})
    agent_typing = await receive_until(widget, "typing")
    customer = await sync_to_async(inbound.visitor_customer)(visitor_id)
    reply = await sync_to_async(outbound.reply_on_web)(
        customer=customer, author=agent, body="Yes, 58 dB at 6 mph."
    )
    shown = await receive_until(widget, "message")
    await widget.send_json_to({"type": "read", "seq": shown["message"]["seq"]})
    status = await receive_until(agent_ws, "status")

    assert shopper_typing == {
        "type": "typing",
        "conversation": conversation_id,
        "from": "customer",
        "typing": True,
    }
    assert agent_typing == {"type": "typing", "typing": True}
    assert shown["message"]["body"] == "Yes, 58 dB at 6 mph."
    assert shown["message"]["direction"] == "out"
    assert shown["cursor"] == reply.seq
    assert (status["event"]["seq"], status["event"]["delivery_status"]) == (reply.seq, "read")
    await widget.disconnect()
    await agent_ws.disconnect()


async def test_malformed_and_oversized_frames_get_an_error_and_store_nothing(site):
    visitor_id, token = visitor()
    conversation_id = await conversation_of(visitor_id)
    widget, _, _ = await open_widget(site, token)
    frames = [
        ("not json", "malformed"),
        ("[1, 2]", "malformed"),
        (json.dumps({"type": "shout"}), "malformed"),
        (json.dumps({"type": "message", "body": "no id"}), "malformed"),
        (json.dumps({"type": "message", "id": "x" * 65, "body": "long id"}), "malformed"),
        (json.dumps({"type": "message", "id": "c-2", "body": "   "}), "malformed"),
        (json.dumps({"type": "message", "id": "c-3", "body": "x" * 2001}), "too_large"),
        (json.dumps({"type": "message", "id": "c-4", "body": "y" * 9000}), "too_large"),
        (json.dumps({"type": "read", "seq": "1"}), "malformed"),
        (json.dumps({"type": "message", "id": "c-5", "body": "nul \x00"}), "malformed"),
        (json.dumps({"type": "message", "id": "c-\ud800", "body": "lone surrogate"}), "malformed"),
    ]

    codes = []
    for text, _ in frames:
        await widget.send_to(text_data=text)
        codes.append((await receive_until(widget, "error"))["code"])
    await widget.send_to(bytes_data=b"\x00\x01")
    codes.append((await receive_until(widget, "error"))["code"])

    assert codes == [code for _, code in frames] + ["malformed"]
    assert await events_of(conversation_id) == []
    # the socket is still usable
    await widget.send_json_to({"type": "message", "id": "c-5", "body": "still here"})
    assert (await receive_until(widget, "ack"))["message"]["body"] == "still here"
    await widget.disconnect()


async def all_taken(socket, timeout: float = 60) -> None:
    """Until the consumer has taken every frame sent to it (it takes the next only once it
    has handled the one before), and handled the last."""
    async with asyncio.timeout(timeout):
        while not socket.input_queue.empty():
            await asyncio.sleep(0.01)
    await nothing_more(socket)


async def frames_until(socket, *, acks: int, errors: int, timeout: float = 60) -> list[dict]:
    """The frames a socket gets until it has had `acks` acks and `errors` errors."""
    frames: list[dict] = []
    async with asyncio.timeout(timeout):
        while sum(f["type"] == "ack" for f in frames) < acks or (
            sum(f["type"] == "error" for f in frames) < errors
        ):
            frames.append(await socket.receive_json_from(timeout=timeout))
    return frames


async def test_a_flood_from_one_socket_is_throttled_without_hurting_another(site):
    # given two sockets whose throttles run on a clock that moves only when told, so what
    # a flood stores does not depend on how fast this machine is
    clock = ManualClock()
    app = widget_app_with_clock(clock)
    flooder_id, flooder_token = visitor()
    _, calm_token = visitor()
    flooder, _, _ = await open_widget(site, flooder_token, app=app)
    calm, _, _ = await open_widget(site, calm_token, app=app)

    # when one floods 200 messages at one instant
    for n in range(200):
        await flooder.send_json_to({"type": "message", "id": f"f-{n}", "body": f"spam {n}"})
    await calm.send_json_to({"type": "message", "id": "c-1", "body": "hello?"})
    calm_ack = await receive_until(calm, "ack", timeout=30)
    # (each frame is waited for by count, not by a quiet second: a busy machine may pause
    # longer than that between two frames)
    frames = await frames_until(flooder, acks=FLOOD_BURST, errors=1)
    await all_taken(flooder)  # the dropped rest of the flood too, before the clock moves
    flooder_conversation = await conversation_of(flooder_id)
    burst = await events_of(flooder_conversation, kind="message")
    # and, two seconds later on the throttle's clock, ten more
    clock.advance(2.0)
    for n in range(200, 210):
        await flooder.send_json_to({"type": "message", "id": f"f-{n}", "body": f"spam {n}"})
    frames += await frames_until(flooder, acks=int(2.0 * FLOOD_RATE), errors=1)
    while not await nothing_more(flooder):  # and what follows (a late error would show)
        frames.append(await flooder.receive_json_from())
    stored = await events_of(flooder_conversation, kind="message")

    # then the burst went in, and then what two seconds refilled; the calm one got through
    errors = [f for f in frames if f["type"] == "error"]
    assert calm_ack["message"]["body"] == "hello?"
    assert errors and errors[0]["code"] == "rate_limited"
    assert len(errors) == 2  # one error per flood, not one per dropped frame
    assert len(burst) == FLOOD_BURST
    assert len(stored) == FLOOD_BURST + int(2.0 * FLOOD_RATE)
    assert [body for *_, body, _ in stored][-1] == f"spam {200 + int(2.0 * FLOOD_RATE) - 1}"
    await flooder.disconnect()
    await calm.disconnect()


async def test_internal_events_never_reach_the_widget(site, agent):
    visitor_id, token = visitor()
    customer = await sync_to_async(inbound.visitor_customer)(visitor_id)
    widget, _, _ = await open_widget(site, token)

    for fields in [
        dict(channel="agent", direction="internal", kind="note", body="big spender, VIP"),
        dict(channel="system", direction="internal", kind="routing", body="to team sales"),
        dict(channel="web", direction="in", kind="cart", body="cart", data={"total": "1299"}),
        dict(channel="web", direction="out", kind="message", body="Hi there!", author=agent),
    ]:
        await sync_to_async(record)(customer, **fields)
    shown = await receive_until(widget, "message")

    assert shown["message"]["body"] == "Hi there!"
    assert shown["cursor"] == 4  # the hidden events count as handled: resume skips them
    assert set(shown["message"]) == {
        "seq", "channel", "direction", "body", "occurred_at", "delivery_status", "client_id"
    }  # fmt: skip
    assert await nothing_more(widget)
    await widget.disconnect()


async def test_a_reconnect_resumes_from_its_cursor_without_loss_or_repeats(site, agent):
    visitor_id, token = visitor()
    customer = await sync_to_async(inbound.visitor_customer)(visitor_id)
    widget, _, _ = await open_widget(site, token)
    await widget.send_json_to({"type": "message", "id": "c-1", "body": "first"})
    await receive_until(widget, "ack")
    live = await receive_until(widget, "message")
    cursor = live["cursor"]
    await widget.disconnect()

    # while the widget is away
    for body in ["missed 1", "missed 2"]:
        await sync_to_async(outbound.reply_on_web)(customer=customer, author=agent, body=body)
    await sync_to_async(record)(
        customer, channel="agent", direction="internal", kind="note", body="note"
    )
    widget, ready, replay = await open_widget(site, token, after_seq=cursor)
    await sync_to_async(outbound.reply_on_web)(customer=customer, author=agent, body="live")
    after = await receive_until(widget, "message")

    assert [f["message"]["body"] for f in replay] == ["missed 1", "missed 2"]
    assert ready["cursor"] == 4
    assert after["message"]["body"] == "live"
    assert await nothing_more(widget)
    await widget.disconnect()


async def test_messages_committed_during_the_replay_arrive_once(site, agent):
    visitor_id, token = visitor()
    customer = await sync_to_async(inbound.visitor_customer)(visitor_id)

    async def reply_a_lot():
        for n in range(20):
            await sync_to_async(outbound.reply_on_web)(customer=customer, author=agent, body=str(n))

    writer = asyncio.create_task(reply_a_lot())
    widget, _, replay = await open_widget(site, token, after_seq=0)
    await writer
    frames = replay
    while not await nothing_more(widget, timeout=0.5):
        frames.append(await widget.receive_json_from())

    bodies = [f["message"]["body"] for f in frames if f["type"] == "message"]
    assert bodies == [str(n) for n in range(20)]
    await widget.disconnect()
