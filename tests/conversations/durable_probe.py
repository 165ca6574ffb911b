"""A reaction for the durable hand-over test (test_durable_reactions.py).

`count_and_answer` counts every run into RUNS_TABLE (committed at once: it survives a
kill), may hold on a message that says "hold" (when REACTION_PROBE_HOLD_DIR is set: it
writes `held` there and sleeps, for the test to kill its process mid-batch), then answers
the message with a `probe` event keyed by the message's id. The count shows how often it
ran (at least once); the probe events, how often its effect happened (exactly once: the
journal is idempotent on the source id).
"""

import os
import time
from pathlib import Path

from django.db import connection

from conversations import journal
from conversations.models import Event

RUNS_TABLE = "test_durable_reaction_runs"


def count_and_answer(event: Event) -> None:
    if event.kind != "message":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {RUNS_TABLE} (event_id, runs) VALUES (%s, 1) ON CONFLICT (event_id)"  # noqa: S608
            f" DO UPDATE SET runs = {RUNS_TABLE}.runs + 1",
            [event.pk],
        )
    hold = os.environ.get("REACTION_PROBE_HOLD_DIR")
    if hold and event.body == "hold":
        (Path(hold) / "held").write_text(str(event.pk))
        time.sleep(300)  # the test kills this process meanwhile
    journal.record(
        customer=event.conversation.customer,
        channel=Event.Channel.SYSTEM,
        kind="probe",
        direction=Event.Direction.INTERNAL,
        source_id=f"probe:{event.pk}",
    )


def nothing(event: Event) -> None:
    """A reaction with no effect, for tests of the hand-over alone."""
