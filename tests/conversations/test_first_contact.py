"""A new sender's first event: five rows in one statement, the same rows as the long way."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conversations import first_contact, journal
from conversations.identities import resolve_customer
from conversations.models import Case, Conversation, Customer, Event, Identity

PHONE, OTHER = "+14155550142", "+14155550143"
SKIP = {"id", "customer", "conversation", "current_case", "case", "merged_into"}
TIMES = {"created_at", "opened_at", "recorded_at", "occurred_at", "last_event_at"}
TIMES |= {"last_inbound_at", "last_outbound_at"}


def text(**fields):
    defaults = {
        "channel": Event.Channel.SMS,
        "kind": "message",
        "direction": Event.Direction.IN,
        "body": "Is the T900 in stock?",
        "data": {"from": PHONE},
    }
    return journal.record(**{**defaults, **fields})


def rows(customer: Customer) -> dict:
    """Every row of the customer's, without ids and times, to compare two customers."""
    customer = Customer.objects.get(pk=customer.pk)  # not a stale cached conversation
    conversation = customer.conversation
    found = {
        "customer": model_to_dict(customer),
        "identities": [model_to_dict(i) for i in customer.identities.all()],
        "conversation": model_to_dict(conversation),
        "cases": [model_to_dict(c) for c in conversation.cases.all()],
        "events": [model_to_dict(e) for e in conversation.events.all()],
    }
    for value in found.values():
        for row in value if isinstance(value, list) else [value]:
            for key in list(row):
                if key in SKIP:
                    del row[key]
                elif key in TIMES and row[key] is not None:
                    row[key] = "set"
            row.pop("value", None)  # the phone numbers differ on purpose, and so do
            row.pop("source_id", None)  # the call ids
    return found


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fields",
    [
        {},  # a text: opens a case
        {"channel": Event.Channel.VOICE, "kind": "call", "source_id": "CA1"},
        {"kind": "page_view", "channel": Event.Channel.WEB, "body": ""},  # no case
        {"kind": "message", "direction": Event.Direction.INTERNAL, "body": "note"},
    ],
)
def test_the_first_event_of_a_new_sender_writes_what_the_general_path_writes(fields):
    with CaptureQueriesContext(connection) as captured:
        event = text(identity=("phone", PHONE), **fields)

    # (a prepared statement is logged without its text)
    statements = [q for q in captured if not (q["sql"] or "").startswith(("SAVEPOINT", "RELEASE"))]
    assert len(statements) == 2  # the known-sender append finds nobody; then this one

    long_way = resolve_customer("phone", OTHER)
    text(customer=long_way, **{**fields, "source_id": fields.get("source_id") and "CA2"})
    new = Identity.objects.get(value=PHONE).customer
    assert rows(new) == rows(long_way)
    assert (event.seq, event.conversation.customer_id) == (1, new.pk)
    assert event.case_id == new.conversation.current_case_id
    assert Event.objects.get(pk=event.pk).body == event.body


@pytest.mark.django_db
def test_a_known_sender_is_left_to_the_usual_paths():
    customer = resolve_customer("phone", PHONE)
    event = Event(channel="sms", kind="message", direction="in", body="hi", data={})
    event.occurred_at = event.recorded_at = timezone.now()

    assert first_contact.append(event, identity=("phone", PHONE), opens_case=True) is None
    assert Customer.objects.count() == 1 and Event.objects.count() == 0
    assert text(identity=("phone", PHONE)).conversation.customer_id == customer.pk


@pytest.mark.django_db
def test_a_new_senders_text_inside_a_transaction_rolls_back_with_it():
    with pytest.raises(RuntimeError), transaction.atomic():
        text(identity=("phone", PHONE))
        raise RuntimeError("the caller fails after recording")

    assert not Customer.objects.exists() and not Event.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_ten_first_texts_at_once_from_one_new_number_make_one_customer(concurrently):
    at = timezone.now() - timedelta(seconds=1)
    events = concurrently(
        lambda n: text(identity=("phone", PHONE), source_id=f"SM{n}", occurred_at=at),
        [(n,) for n in range(10)],
    )

    assert Customer.objects.count() == 1 and Identity.objects.count() == 1
    assert sorted(e.seq for e in events) == list(range(1, 11))
    assert Case.objects.count() == 1 and Conversation.objects.get().last_seq == 10
    assert len({e.conversation.customer_id for e in events}) == 1


@pytest.mark.django_db(transaction=True)
def test_the_same_first_text_delivered_ten_times_at_once_is_one_event(concurrently):
    events = concurrently(lambda: text(identity=("phone", PHONE), source_id="SMdup"), [()] * 10)

    assert len({e.pk for e in events}) == 1
    assert Customer.objects.count() == 1 and Event.objects.count() == 1
    assert Case.objects.count() == 1


@pytest.mark.django_db
def test_a_caller_who_knows_the_sender_is_new_saves_the_first_round_trip():
    with CaptureQueriesContext(connection) as captured:
        event = text(identity=("phone", PHONE), unknown_sender=True)

    statements = [q for q in captured if not (q["sql"] or "").startswith(("SAVEPOINT", "RELEASE"))]
    assert len(statements) == 1
    assert event.seq == 1 and Customer.objects.count() == 1
    # wrong about it (a first contact got in meanwhile): the usual path takes over
    again = text(identity=("phone", PHONE), unknown_sender=True)
    assert (again.seq, again.conversation.customer_id) == (2, event.conversation.customer_id)
    assert Customer.objects.count() == 1
