"""One verb, four write paths, the same rows (docs/adr/0005 to 0008, docs/subsystems/journal.md).

"Record an event in the customer's one conversation" is written by the one-statement
append (journal._append_in_one_statement), the locked path (journal._append_under_lock),
the first-contact statement (first_contact.append) and the batch (batch._append_many,
under record_many). `record()` picks one of them; here each scenario is driven through
every path that can express it, called directly, and `record()` itself is a fifth "path",
so its routing is held to the same rows too.

Each run happens in a savepoint that is rolled back once its rows are read, so every run
starts from the same database and uses the same phone number and source ids: the rows of
two runs then differ only in their ids and in the times taken from the clock, and those
are all that `snapshot` leaves out. Times are compared exactly where a scenario sets them
(`occurred_at` and the summary's times that follow it); a time the code takes from the
clock for an event (its `recorded_at`, a case's `opened_at` and first-response time) is
compared as "the time event #n was recorded".

Every path's rows are compared column by column with the locked path's (the general one,
which can express everything), and every path, the locked one included, against the
scenario's expectations written out here. The test that a path which cannot express a
scenario writes nothing pins which path hands which scenario back to `record()`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from conversations import batch, cases, journal
from conversations.identities import resolve_customer
from conversations.models import Case, Customer, Event, Identity, PendingReaction
from tests.rows import row_counts

PHONE = ("phone", "+14155550142")
REFERENCE = "locked"


@dataclass(frozen=True)
class Step:
    """One `record()` call: its keyword arguments, `at` after the test's base time."""

    channel: str = Event.Channel.SMS
    kind: str = "message"
    direction: str = Event.Direction.IN
    body: str = ""
    at: timedelta | None = None  # None: now, as record() does
    source_id: str | None = None
    by_agent: bool = False
    delivery_status: str = ""

    def fields(self, base: datetime, agent) -> dict:
        return {
            "channel": self.channel,
            "kind": self.kind,
            "direction": self.direction,
            "body": self.body,
            "data": {"step": self.body},
            "occurred_at": None if self.at is None else base + self.at,
            "source_id": self.source_id,
            "author": agent if self.by_agent else None,
            "delivery_status": self.delivery_status,
        }


FIRST_TEXT = Step(body="Is the T900 in stock?", at=timedelta(hours=1), source_id="SM1")
RESOLVE, HOT = "resolve the case", "mark the case hot"


@dataclass(frozen=True)
class Scenario:
    name: str
    given: list  # Steps through record(), or RESOLVE / HOT through the case verbs
    steps: list[Step]  # through the path under test: one by one, or as one batch
    paths: set[str]  # the paths that express it (record() always does)
    declined_by: set[str]  # the paths that hand it back to record(), writing nothing
    expect: dict = field(default_factory=dict)  # facts(snapshot) after the steps


SCENARIOS = [
    Scenario(
        "a new customer's first text",
        given=[],
        steps=[FIRST_TEXT],
        paths={"locked", "first_contact", "record"},
        declined_by={"one_statement", "batch"},  # it opens a case
        expect={
            "conversation": ("open", 0, 1, "sms", 1),
            "cases": [("open", 0, "when #1 was recorded", None)],
            "event_cases": [0],
            "returned": [1],
            "times": (timedelta(hours=1), timedelta(hours=1), None),
        },
    ),
    Scenario(
        "a new customer's first page view",
        given=[],
        steps=[Step(channel="web", kind="page_view", body="/t900", at=timedelta(hours=1))],
        paths={"locked", "first_contact", "one_statement", "batch", "record"},
        declined_by=set(),
        expect={
            "conversation": ("idle", 0, 0, "web", 1),
            "cases": [],
            "event_cases": [None],
            "returned": [1],
            "times": (timedelta(hours=1), timedelta(hours=1), None),
        },
    ),
    Scenario(
        "a follow-up inbound message",
        given=[FIRST_TEXT],
        steps=[Step(channel="web", body="And in blue?", at=timedelta(hours=2))],
        paths={"locked", "one_statement", "batch", "record"},
        declined_by={"first_contact"},  # a known sender
        expect={
            "conversation": ("open", 0, 2, "web", 2),
            "cases": [("open", 0, "when #1 was recorded", None)],
            "event_cases": [0, 0],
            "returned": [2],
            "times": (timedelta(hours=2), timedelta(hours=2), None),
        },
    ),
    Scenario(
        "an agent's reply",
        given=[FIRST_TEXT],
        steps=[
            Step(
                direction=Event.Direction.OUT,
                body="Yes, two left.",
                at=timedelta(hours=2),
                by_agent=True,
                delivery_status="pending",
            )
        ],
        # The first-response time is the locked path's alone: record() sends an agent's
        # reply nowhere else (the one-statement append would write it without it).
        paths={"locked", "record"},
        declined_by={"first_contact", "batch"},
        expect={
            "conversation": ("open", 0, 1, "sms", 2),
            "cases": [("open", 0, "when #1 was recorded", "when #2 was recorded")],
            "event_cases": [0, 0],
            "returned": [2],
            "times": (timedelta(hours=2), timedelta(hours=1), timedelta(hours=2)),
        },
    ),
    Scenario(
        "an automatic outbound message",
        given=[FIRST_TEXT],
        steps=[
            Step(
                direction=Event.Direction.OUT,
                body="Thanks! An agent will answer shortly.",
                at=timedelta(hours=2),
                source_id="SM1:auto",
                delivery_status="queued",
            )
        ],
        paths={"locked", "one_statement", "batch", "record"},
        declined_by={"first_contact"},
        expect={
            "conversation": ("open", 0, 1, "sms", 2),
            "cases": [("open", 0, "when #1 was recorded", None)],  # no agent answered yet
            "event_cases": [0, 0],
            "returned": [2],
            "times": (timedelta(hours=2), timedelta(hours=1), timedelta(hours=2)),
        },
    ),
    Scenario(
        "an internal note",
        given=[FIRST_TEXT],
        steps=[
            Step(
                channel=Event.Channel.SYSTEM,
                kind="note",
                direction=Event.Direction.INTERNAL,
                body="Prefers calls after 5pm",
                at=timedelta(hours=2),
                by_agent=True,
            )
        ],
        paths={"locked", "one_statement", "batch", "record"},
        declined_by={"first_contact"},
        expect={
            "conversation": ("open", 0, 1, "sms", 2),
            "cases": [("open", 0, "when #1 was recorded", None)],
            "event_cases": [0, 0],
            "returned": [2],
            "times": (timedelta(hours=2), timedelta(hours=1), None),
        },
    ),
    Scenario(
        "a message after the case was resolved",
        given=[FIRST_TEXT, RESOLVE],  # resolved now, a day after the base time
        steps=[Step(body="Is it back in stock?", at=timedelta(days=2))],
        paths={"locked", "record"},
        declined_by={"one_statement", "batch", "first_contact"},  # it opens a case
        expect={
            "conversation": ("open", 0, 1, "sms", 3),
            "cases": [
                ("resolved", 0, "when #1 was recorded", None),
                ("open", 0, "when #3 was recorded", None),
            ],
            "event_cases": [0, 0, 1],
            "returned": [3],
            "times": (timedelta(days=2), timedelta(days=2), None),
        },
    ),
    Scenario(
        "a late call from before the resolution",
        given=[FIRST_TEXT, RESOLVE],
        steps=[Step(channel="voice", kind="call", at=timedelta(hours=2), source_id="CA1")],
        paths={"locked", "record"},
        declined_by={"one_statement", "batch", "first_contact"},
        expect={
            # it joins the case resolved after it, which stays resolved: no case opens
            "conversation": ("idle", 0, 0, "voice", 3),
            "cases": [("resolved", 0, "when #1 was recorded", None)],
            "event_cases": [0, 0, 0],
            "returned": [3],
            "times": ("when #2 was recorded", timedelta(hours=2), None),
        },
    ),
    Scenario(
        "repeated source ids",
        given=[FIRST_TEXT],
        steps=[
            Step(body="retried delivery", at=timedelta(hours=1), source_id="SM1"),
            Step(body="Thanks", at=timedelta(hours=2), source_id="SM2"),
            Step(body="Thanks (retried)", at=timedelta(hours=2), source_id="SM2"),
        ],
        paths={"locked", "one_statement", "batch", "record"},
        declined_by={"first_contact"},
        expect={
            "conversation": ("open", 0, 2, "sms", 2),
            "cases": [("open", 0, "when #1 was recorded", None)],
            "event_cases": [0, 0],
            "returned": [1, 2, 2],  # the originals, unchanged
            "times": (timedelta(hours=2), timedelta(hours=2), None),
        },
    ),
    Scenario(
        "a message on a hot case",
        given=[FIRST_TEXT, HOT],
        steps=[Step(channel="web", body="Hello?", at=timedelta(days=2))],  # after the mark
        paths={"locked", "one_statement", "batch", "record"},
        declined_by={"first_contact"},
        expect={
            "conversation": ("open", 10, 2, "web", 3),
            "cases": [("open", 10, "when #1 was recorded", None)],
            "event_cases": [0, 0, 0],
            "returned": [3],
            "times": (timedelta(days=2), timedelta(days=2), None),
        },
    ),
    Scenario(
        "a late event older than the newest",
        given=[FIRST_TEXT],
        # the batch gets both at once; the other paths one after the other
        steps=[
            Step(channel="web", body="Still there?", at=timedelta(hours=3)),
            Step(channel="voice", kind="call", at=timedelta(hours=2), source_id="CA1"),
        ],
        paths={"locked", "one_statement", "batch", "record"},
        declined_by={"first_contact"},
        expect={
            # the older call is not where she last spoke, and moves no time backwards
            "conversation": ("open", 0, 2, "web", 3),
            "cases": [("open", 0, "when #1 was recorded", None)],
            "event_cases": [0, 0, 0],
            "returned": [2, 3],
            "times": (timedelta(hours=3), timedelta(hours=3), None),
        },
    ),
]


# ---------------------------------------------------------------------------- the paths


def _event(fields: dict) -> Event:
    """The unsaved event record() makes of its arguments."""
    now = timezone.now()
    return Event(
        seq=0,
        channel=fields["channel"],
        direction=fields["direction"],
        kind=fields["kind"],
        body=fields["body"],
        data=fields["data"] or {},
        occurred_at=fields["occurred_at"] or now,
        recorded_at=now,
        source_id=fields["source_id"],
        delivery_status=fields["delivery_status"],
        author=fields["author"],
    )


def _one_statement(customer, many):
    events = []
    for fields in many:
        event = journal._append_in_one_statement(_event(fields), customer=customer, identity=None)
        if event is None:
            return None
        events.append(event)
    return events


def _locked(customer, many):
    return [journal._append_under_lock(customer, _event(fields)) for fields in many]


def _first_contact(customer, many):
    events = []
    for fields in many:
        event = _event(fields)
        if (row := journal._first_contact(event, PHONE)) is None:
            return None
        events.append(journal._appended(event, row))
    return events


def _batch(customer, many):
    items = [{"customer": customer, **fields} for fields in many]
    results: list = [None] * len(items)
    with transaction.atomic():  # record_many's own savepoint
        if batch._append_many(items, [_event(fields) for fields in many], results):
            transaction.set_rollback(True)  # some item needs record(): not this path
            return None
    return results


def _record(customer, many):
    # as the webhooks call it: inbound traffic by the sender's identity
    return [
        journal.record(
            **({"identity": PHONE} if fields["direction"] == "in" else {"customer": customer}),
            **fields,
        )
        for fields in many
    ]


PATHS = {
    "one_statement": _one_statement,
    "locked": _locked,
    "first_contact": _first_contact,
    "batch": _batch,
    "record": _record,
}
# Paths that are given the sender rather than a customer (the others resolve it first).
BY_IDENTITY = {"first_contact", "record"}


# ---------------------------------------------------------------------------- running


def _given(scenario: Scenario, base: datetime, agent) -> None:
    for action in scenario.given:
        if action == RESOLVE:
            cases.resolve_case(Case.objects.get(status="open"), by=agent)
        elif action == HOT:
            cases.mark_hot(Case.objects.get(status="open"), reason="waited too long")
        else:
            journal.record(identity=PHONE, **action.fields(base, agent))


def _subject(path: str) -> Customer | None:
    if path in BY_IDENTITY and not Identity.objects.filter(kind=PHONE[0], value=PHONE[1]).exists():
        return None  # a new sender: the path finds nobody and makes them
    return resolve_customer(*PHONE)


def outcome(scenario: Scenario, path: str, base: datetime, agent) -> dict | None:
    """The rows `path` leaves for the scenario (None: it declined), rolled back after."""
    with transaction.atomic():
        _given(scenario, base, agent)
        customer = _subject(path)
        returned = PATHS[path](customer, [step.fields(base, agent) for step in scenario.steps])
        found = None if returned is None else snapshot(returned, base)
        transaction.set_rollback(True)
    return found


# Times the code takes from the clock for something other than an event's recording.
CLOCK_TIMES = {"created_at", "resolved_at", "snoozed_at"}


def snapshot(returned: list[Event], base: datetime) -> dict:
    """The customer's rows, column by column, without ids and clock times (see above)."""
    customer = Identity.objects.get(kind=PHONE[0], value=PHONE[1]).customer
    conversation = customer.conversation
    case_ids = list(conversation.cases.order_by("pk").values_list("pk", flat=True))
    events = list(conversation.events.order_by("seq"))
    seq_of = {event.pk: event.seq for event in events}
    recorded = {}
    for event in reversed(events):  # equal times: the first event's
        recorded[event.recorded_at] = f"when #{event.seq} was recorded"

    def case(pk):
        return None if pk is None else case_ids.index(pk)

    def columns(instance, *left_out) -> dict:
        """Every column but the id and `left_out`; times made comparable."""
        row = {}
        for column in instance._meta.concrete_fields:
            if column.primary_key or column.attname in left_out:
                continue
            value = getattr(instance, column.attname)
            if isinstance(value, datetime):
                if column.attname in CLOCK_TIMES:
                    value = "set" if value else None
                elif value in recorded:
                    value = recorded[value]
                else:
                    value = value - base  # a time a scenario set
            row[column.attname] = value
        return row

    event_rows = []
    for event in events:
        row = columns(event, "conversation_id")
        row["case_id"] = case(row["case_id"])
        if isinstance(pk := row["data"].get("case"), int):  # the case verbs' events name it
            row["data"] = {**row["data"], "case": case(pk)}
            row["body"] = row["body"].replace(f"Case #{pk}", f"Case <{case(pk)}>")
        event_rows.append(row)
    conversation_row = columns(conversation, "customer_id")
    conversation_row["current_case_id"] = case(conversation_row["current_case_id"])
    handed_over = PendingReaction.objects.filter(event_id__in=seq_of).order_by("event_id")
    return {
        "customer": columns(customer),
        "identities": [columns(i, "customer_id") for i in customer.identities.order_by("pk")],
        "conversation": conversation_row,
        "cases": [columns(c, "conversation_id") for c in conversation.cases.order_by("pk")],
        "events": event_rows,
        "handed over": [(seq_of[p.event_id], columns(p, "event_id")) for p in handed_over],
        "returned": [(e.seq, e.body, case(e.case_id), e.pk in seq_of) for e in returned],
    }


def facts(rows: dict) -> dict:
    """What a scenario expects, read from a snapshot."""
    conversation = rows["conversation"]
    return {
        "conversation": tuple(
            conversation[key]
            for key in ("status", "priority", "unread_count", "last_channel", "last_seq")
        ),
        "cases": [
            (c["status"], c["priority"], c["opened_at"], c["first_response_at"])
            for c in rows["cases"]
        ],
        "event_cases": [e["case_id"] for e in rows["events"]],
        "returned": [seq for seq, *_ in rows["returned"]],
        "times": tuple(
            conversation[key] for key in ("last_event_at", "last_inbound_at", "last_outbound_at")
        ),
    }


# ---------------------------------------------------------------------------- the tests


@pytest.fixture
def base():
    """The scenarios' time 0: a day ago, so that a case resolved now is resolved after
    everything a scenario dates before `timedelta(days=1)`."""
    return timezone.now() - timedelta(days=1)


@pytest.fixture(autouse=True)
def _handing_over(settings):
    """Stream mode: every path writes the reactions' hand-over row, compared too."""
    settings.THROUGHLINE_REACTIONS_MODE = "stream"


def _expressed():
    return [
        pytest.param(scenario, path, id=f"{scenario.name} / {path}")
        for scenario in SCENARIOS
        for path in sorted(scenario.paths)
    ]


def _declined():
    return [
        pytest.param(scenario, path, id=f"{scenario.name} / {path}")
        for scenario in SCENARIOS
        for path in sorted(scenario.declined_by)
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(("scenario", "path"), _expressed())
def test_every_path_writes_the_rows_the_locked_path_writes(scenario, path, base, agent):
    rows = outcome(scenario, path, base, agent)

    assert rows is not None, f"{path} declined a scenario it is said to express"
    assert facts(rows) == scenario.expect
    assert len(rows["handed over"]) == len(rows["events"])  # each event's, in its commit
    if path != REFERENCE:
        reference = outcome(scenario, REFERENCE, base, agent)
        for table in reference:  # table by table, so a failure names the table
            assert rows[table] == reference[table], table


@pytest.mark.django_db
@pytest.mark.parametrize(("scenario", "path"), _declined())
def test_a_path_that_cannot_express_a_scenario_writes_nothing(scenario, path, base, agent):
    with transaction.atomic():
        _given(scenario, base, agent)
        customer = _subject(path)
        before = row_counts()
        returned = PATHS[path](customer, [step.fields(base, agent) for step in scenario.steps])
        after = row_counts()
        transaction.set_rollback(True)

    assert returned is None
    assert after == before


def test_every_path_is_held_to_the_scenarios():
    """No path, and no scenario, is left out of the comparison by accident."""
    assert {path for s in SCENARIOS for path in s.paths} == set(PATHS)
    for scenario in SCENARIOS:
        assert "record" in scenario.paths and REFERENCE in scenario.paths, scenario.name
        assert scenario.paths | scenario.declined_by <= set(PATHS), scenario.name
        assert not scenario.paths & scenario.declined_by, scenario.name


@pytest.mark.django_db(transaction=True)
def test_a_repeat_from_a_sender_nobody_has_any_more_writes_nothing(base, agent):
    """A repeated source id writes nothing on every path, the first contact's included;
    record() must not write the sender it would have made. An erasure deletes the
    identities and keeps Twilio's ids (privacy/erasure.py), so Twilio retrying an erased
    text reaches record() as a sender nobody has, with a source id already recorded."""
    from privacy.erasure import erase_customer

    text = {**FIRST_TEXT.fields(base, agent), "source_id": "SM" + "0123456789abcdef" * 2}
    original = journal.record(identity=PHONE, **text)
    erase_customer(Customer.objects.get(), by=agent)
    before = row_counts()

    repeat = journal.record(identity=PHONE, **text)

    assert repeat.pk == original.pk
    assert row_counts() == before  # no customer holding the erased number again
