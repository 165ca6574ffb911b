"""Reactions run off the request path: a Redis stream and `manage.py react` consumers."""

import subprocess
import sys
from datetime import UTC, datetime
from io import StringIO

import pytest
import redis
import time_machine
from django.core.management import call_command
from django.db import connection

from conversations import batch, journal, reactions
from conversations.models import Event, ParkedReaction
from tests.conftest import subprocess_env
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)

PROBE = "tests.conversations.reaction_probe.remember"
POISON = "tests.conversations.reaction_probe.refuse_poison"


@pytest.fixture
def stream_mode(settings):
    # A fresh stream: earlier tests of this worker in stream mode (test_write_paths,
    # test_replay_reactions) leave entries whose rows are gone, and `drain` reads the
    # oldest first, so a hundred of them would hide this test's own.
    redis.Redis.from_url(settings.REDIS_URL).delete(settings.THROUGHLINE_REACTIONS_STREAM)
    settings.THROUGHLINE_REACTIONS_MODE = "stream"
    settings.THROUGHLINE_EVENT_REACTIONS = [PROBE]
    settings.REACTIONS_CLAIM_IDLE_SECONDS = 60
    yield settings.THROUGHLINE_REACTIONS_STREAM
    redis.Redis.from_url(settings.REDIS_URL).delete(settings.THROUGHLINE_REACTIONS_STREAM)


def text(customer, sid="SM1", body="Is the T900 in stock?"):
    return journal.record(
        customer=customer,
        channel=Event.Channel.SMS,
        kind="message",
        direction=Event.Direction.IN,
        body=body,
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

    env = subprocess_env(REDIS_URL="redis://127.0.0.1:1/0")  # nothing listens on port 1
    process = subprocess.Popen(
        [sys.executable, "manage.py", "react"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Django starting (however slow the machine): the handlers are set before this line
    assert "reactions: consuming as" in process.stdout.readline()
    failed_rounds = 0
    for line in process.stderr:  # each failed round logs one warning (ends if it exits)
        failed_rounds += "Redis unavailable, retrying" in line
        if failed_rounds == 2:
            break
    assert failed_rounds == 2
    assert process.poll() is None  # still running past a failed round: not a crash
    process.send_signal(signal.SIGTERM)
    _out, err = process.communicate(timeout=30)

    assert process.returncode == 0, err


# ---- one event never holds up the others (issue 17)


@pytest.fixture
def with_poison(stream_mode, settings):
    settings.THROUGHLINE_EVENT_REACTIONS = [PROBE, POISON]
    return stream_mode


def pending(settings):
    client = redis.Redis.from_url(settings.REDIS_URL)
    return client.xpending(settings.THROUGHLINE_REACTIONS_STREAM, reactions.GROUP)["pending"]


def test_a_reaction_failing_on_one_event_is_set_aside_and_the_others_go_on(with_poison, settings):
    customer = CustomerFactory()
    before = text(customer, "SM1")
    bad = text(customer, "SM2", body="poison")
    after = text(customer, "SM3")

    assert reactions.drain() >= 3

    # every event had every other reaction, the bad one included; nothing waits on it
    assert set(probes()) == {f"probe:{e.pk}" for e in (before, bad, after)}
    assert pending(settings) == 0
    row = ParkedReaction.objects.get()
    assert (row.event_id, row.reaction, row.status, row.attempts) == (bad.pk, POISON, "retrying", 1)
    assert row.error == "ValueError: cannot digest this message"
    assert row.next_attempt_at == row.last_failed_at + reactions.RETRY_DELAYS[0]


def test_it_is_retried_with_backoff_then_parked_then_replayed_once_fixed(with_poison):
    customer = CustomerFactory()
    with time_machine.travel(datetime(2026, 12, 1, 9, 0, tzinfo=UTC), tick=False) as clock:
        bad = text(customer, "SM1", body="poison")
        reactions.drain()
        clock.shift(reactions.RETRY_DELAYS[0] / 2)
        reactions.drain()  # not due yet
        assert ParkedReaction.objects.get().attempts == 1
        for attempt, delay in enumerate(reactions.RETRY_DELAYS, start=2):
            clock.shift(delay)
            assert reactions.drain() == 1
            assert ParkedReaction.objects.get().attempts == attempt
        row = ParkedReaction.objects.get()
        assert (row.status, row.next_attempt_at) == ("parked", None)
        clock.shift(reactions.RETRY_DELAYS[-1] * 10)
        reactions.drain()  # parked: no more automatic tries
        assert ParkedReaction.objects.get().attempts == reactions.MAX_ATTEMPTS

    out = StringIO()
    call_command("replay_parked", stdout=out)  # not fixed yet: fails again, stays parked
    assert "0 worked, 1 failed again" in out.getvalue()
    assert ParkedReaction.objects.get().status == "parked"

    customer.traits = {"antidote": True}
    customer.save(update_fields=["traits"])
    call_command("replay_parked", stdout=out)

    assert not ParkedReaction.objects.exists()
    assert Event.objects.filter(kind="digested", source_id=f"digested:{bad.pk}").exists()


def test_an_operator_replays_it_from_the_admin(with_poison, client, django_user_model):
    customer = CustomerFactory(traits={"antidote": True})
    bad = text(customer, "SM1", body="poison")
    ParkedReaction.objects.create(
        event_id=bad.pk, reaction=POISON, status="parked", attempts=5, error="ValueError: x"
    )
    admin_user = django_user_model.objects.create_superuser("root", password="pw-root")
    client.force_login(admin_user)

    listing = client.get("/admin/conversations/parkedreaction/")
    assert listing.status_code == 200 and POISON in listing.content.decode()
    done = client.post(
        "/admin/conversations/parkedreaction/",
        {"action": "replay", "_selected_action": [ParkedReaction.objects.get().pk]},
        follow=True,
    )

    assert "1 worked, 0 failed again" in done.content.decode()
    assert not ParkedReaction.objects.exists()
    assert Event.objects.filter(kind="digested").count() == 1


def test_react_goes_on_past_an_event_it_cannot_even_read(with_poison):
    customer = CustomerFactory()
    unreadable = text(customer, "SM1")
    good = text(customer, "SM2")
    with connection.cursor() as cursor:  # stored before the API checked (issue 14)
        cursor.execute(
            "UPDATE conversations_event SET occurred_at = '0001-01-01 00:00:00+14' WHERE id = %s",
            [unreadable.pk],
        )

    done = subprocess.run(
        [sys.executable, "manage.py", "react", "--once"],
        env=subprocess_env(
            THROUGHLINE_EVENT_REACTIONS=f"{PROBE},{POISON}",
            THROUGHLINE_REACTIONS_STREAM=with_poison,
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr  # before issue 17: DataError, exit 1
    assert probes() == [f"probe:{good.pk}"]
    parked = ParkedReaction.objects.filter(event_id=unreadable.pk)
    assert {PROBE, POISON} <= set(parked.values_list("reaction", flat=True))
    assert all(row.error.startswith("DataError: timestamp too small") for row in parked)
