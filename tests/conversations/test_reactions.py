"""Reactions run off the request path: a Redis stream and `manage.py react` consumers."""

import subprocess
import sys

import pytest
import redis

from conversations import batch, journal, reactions
from conversations.models import Event
from tests.conftest import subprocess_env
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)

PROBE = "tests.conversations.reaction_probe.remember"


@pytest.fixture
def stream_mode(settings):
    settings.THROUGHLINE_REACTIONS_MODE = "stream"
    settings.THROUGHLINE_EVENT_REACTIONS = [PROBE]
    settings.REACTIONS_CLAIM_IDLE_SECONDS = 60
    yield settings.THROUGHLINE_REACTIONS_STREAM
    redis.Redis.from_url(settings.REDIS_URL).delete(settings.THROUGHLINE_REACTIONS_STREAM)


def text(customer, sid="SM1"):
    return journal.record(
        customer=customer,
        channel=Event.Channel.SMS,
        kind="message",
        direction=Event.Direction.IN,
        body="Is the T900 in stock?",
        source_id=sid,
    )


def probes():
    return list(Event.objects.filter(kind="probe").values_list("source_id", flat=True))


def test_a_recorded_event_waits_on_the_stream_until_a_consumer_runs_its_reactions(stream_mode):
    message = text(CustomerFactory())

    assert probes() == []  # nothing ran in the recording process
    assert reactions.drain() >= 1
    assert probes() == [f"probe:{message.pk}"]
    reactions.drain()  # acknowledged: never run twice
    assert probes() == [f"probe:{message.pk}"]


def test_what_a_dead_consumer_claimed_goes_to_another(stream_mode, settings):
    message = text(CustomerFactory())
    client = redis.Redis.from_url(settings.REDIS_URL)
    reactions.drain(consumer="warm-up")  # creates the group; runs nothing more than `message`
    Event.objects.filter(kind="probe").delete()
    other = text(message.conversation.customer, sid="SM2")
    claimed = client.xreadgroup(reactions.GROUP, "dies", {stream_mode: ">"}, count=100)
    held = len(claimed[0][1])  # "dies" holds them, and never acknowledges

    assert reactions.drain(consumer="survivor") == 0  # not idle long enough yet
    assert probes() == []
    settings.REACTIONS_CLAIM_IDLE_SECONDS = 0
    assert reactions.drain(consumer="survivor") >= held

    assert probes() == [f"probe:{other.pk}"]
    assert client.xpending(stream_mode, reactions.GROUP)["pending"] == 0


def test_the_react_command_consumes_the_stream_in_another_process(stream_mode):
    message = text(CustomerFactory())

    done = subprocess.run(
        [sys.executable, "manage.py", "react", "--once"],
        env=subprocess_env(
            THROUGHLINE_EVENT_REACTIONS=PROBE, THROUGHLINE_REACTIONS_STREAM=stream_mode
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    assert probes() == [f"probe:{message.pk}"]


def test_inline_reactions_run_right_after_commit(settings):
    settings.THROUGHLINE_REACTIONS_MODE = "inline"
    settings.THROUGHLINE_EVENT_REACTIONS = [PROBE]

    message = text(CustomerFactory())

    assert probes() == [f"probe:{message.pk}"]


def test_a_batch_hands_every_event_over(stream_mode):
    customer = CustomerFactory()
    first = text(customer, sid="SM0")  # opens the case, so the batch takes the batched path
    reactions.drain()
    fields = {"channel": "sms", "kind": "message", "direction": "in", "body": "more"}

    events = batch.record_many(
        [{"customer": customer, "source_id": f"SM{n}", **fields} for n in (1, 2, 3)]
    )

    assert reactions.drain() >= 3
    assert set(probes()) == {f"probe:{e.pk}" for e in [first, *events]}


def test_the_react_loop_waits_out_a_redis_outage_and_stops_cleanly_on_sigterm():
    import signal
    import time

    env = subprocess_env(REDIS_URL="redis://127.0.0.1:1/0")  # nothing listens on port 1
    process = subprocess.Popen(
        [sys.executable, "manage.py", "react"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(6)  # Django starting, then a few failed rounds
    assert process.poll() is None  # still running: an outage is not a crash
    process.send_signal(signal.SIGTERM)
    _out, err = process.communicate(timeout=30)

    assert process.returncode == 0, err
    assert "Redis unavailable, retrying" in err
