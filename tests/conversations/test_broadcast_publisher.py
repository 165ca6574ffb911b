"""The live broadcast's publisher sends without waiting for Redis's answers
(conversations/broadcast.py, `_Sender`): what that must not cost."""

import logging
import uuid

from base.redis_client import redis_client
from conversations.broadcast import StreamAppend, _GroupPublisher


def test_an_error_redis_answers_is_logged_at_the_next_publish_which_still_goes_out(
    broadcasts, caplog
):
    publisher = _GroupPublisher()
    stream = f"test-not-a-stream-{uuid.uuid4().hex}"
    redis_client().set(stream, "a string: XADD answers WRONGTYPE")
    refused = StreamAppend(stream=stream, entries=[{"e": 1}], maxlen=100)

    with caplog.at_level(logging.WARNING, logger="conversations.broadcast"):
        publisher.publish([("inbox", {"type": "inbox.update", "n": 1})], refused)
        assert not caplog.records  # the answer is not waited for
        publisher.publish([("inbox", {"type": "inbox.update", "n": 2})])

    assert [r.getMessage() for r in caplog.records] == ["broadcast: Redis refused a command"]
    assert [m["n"] for _, m in broadcasts.collect()] == [1, 2]
    redis_client().delete(stream)


def test_a_connection_redis_closed_is_opened_again_by_the_next_publish(broadcasts):
    publisher = _GroupPublisher()
    publisher.publish([("inbox", {"type": "inbox.update", "n": 1})])
    (sender,) = publisher._senders.values()
    host, port = sender._connection._sock.getsockname()[:2]

    assert redis_client().client_kill(f"{host}:{port}")  # as a Redis restart would
    publisher.publish([("inbox", {"type": "inbox.update", "n": 2})])
    publisher.publish([("inbox", {"type": "inbox.update", "n": 3})])

    assert [m["n"] for _, m in broadcasts.collect()] == [1, 2, 3]
