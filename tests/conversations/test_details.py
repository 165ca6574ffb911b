"""An event's detail (conversations/details.py): a channel's own row, here an email's
`Mail`, written with the event by every write path, or not at all."""

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext

from channels_adapters.email.models import Mail
from conversations import journal
from conversations.models import Conversation, Customer, Event, Identity
from tests.factories import CustomerFactory

ADDRESS = "dana.rivera@gmail.com"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def mail_row(message_id: str) -> Mail:
    return Mail(
        direction=Mail.Direction.IN,
        message_id=message_id,
        address=ADDRESS,
        subject="Re: Your order 48213",
        references=["older@shop.example", "first@shop.example"],
        original=b"Subject: hi\n\nhello\n",
    )


def mail(source_id: str, detail: Mail | None = None, **whose) -> Event:
    whose = whose or {"identity": ("email", ADDRESS)}
    return journal.record(
        **whose,
        channel=Event.Channel.EMAIL,
        kind="message",
        direction=Event.Direction.IN,
        body="Saturday works.",
        source_id=source_id,
        detail=detail,
    )


@pytest.fixture
def dana() -> Customer:
    customer = CustomerFactory()
    Identity.objects.create(customer=customer, kind="email", value=ADDRESS)
    mail("opening@gmail.com")  # the case is open: the next mail takes the one statement
    return customer


def assert_stored(detail: Mail, event: Event) -> None:
    stored = Mail.objects.get(pk=detail.pk)
    assert stored.event_id == event.pk and not detail._state.adding
    assert stored.references == ["older@shop.example", "first@shop.example"]
    assert bytes(stored.original) == b"Subject: hi\n\nhello\n"


@pytest.mark.django_db
def test_the_one_statement_append_writes_the_detail_in_its_statement(dana):
    detail = mail_row("second@gmail.com")
    with CaptureQueriesContext(connection) as queries:
        event = mail("second@gmail.com", detail)

    # the append alone (prepared), in the savepoint the test's transaction gives it
    assert [q["sql"] or "(prepared)" for q in queries][1] == "(prepared)"
    assert len(queries) == 3
    assert_stored(detail, event)
    assert event.seq == 2 and event.conversation.customer_id == dana.pk


@pytest.mark.django_db
def test_a_first_contact_writes_the_detail_in_its_statement():
    detail = mail_row("hello@gmail.com")
    event = journal.record(
        identity=("email", ADDRESS),
        unknown_sender=True,
        channel=Event.Channel.EMAIL,
        kind="message",
        direction=Event.Direction.IN,
        body="Hello!",
        source_id="hello@gmail.com",
        detail=detail,
    )

    assert_stored(detail, event)
    assert event.seq == 1 and Identity.objects.get(value=ADDRESS).customer_id is not None


@pytest.mark.django_db
def test_the_locked_path_writes_the_detail_after_the_event():
    customer = CustomerFactory()  # no case open: the event opens one, under the lock
    detail = mail_row("locked@gmail.com")
    event = mail("locked@gmail.com", detail, customer=customer)

    assert_stored(detail, event)
    assert event.case_id is not None


@pytest.mark.django_db
def test_a_repeat_answers_with_the_recorded_event_and_writes_no_detail(dana):
    first = mail("again@gmail.com", mail_row("again@gmail.com"))
    repeat = mail_row("again@gmail.com")

    assert mail("again@gmail.com", repeat).pk == first.pk
    assert repeat.pk is None  # the caller can tell: nothing was written
    assert Mail.objects.filter(message_id="again@gmail.com").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["one statement", "first contact", "locked"])
def test_a_detail_that_cannot_be_written_writes_no_event(dana, path):
    mail("taken@gmail.com", mail_row("taken@mail.example"))
    before = Conversation.objects.get(customer=dana).last_seq
    whose = {
        "one statement": {"identity": ("email", ADDRESS)},
        "first contact": {"identity": ("email", "new@gmail.com")},
        "locked": {"customer": CustomerFactory()},
    }[path]

    with pytest.raises(IntegrityError):  # the Message-ID is another mail's
        mail("clash@gmail.com", mail_row("taken@mail.example"), **whose)

    assert not Event.objects.filter(source_id="clash@gmail.com").exists()
    assert Conversation.objects.get(customer=dana).last_seq == before


@pytest.mark.django_db(transaction=True)
def test_two_appends_of_one_event_at_once_write_one_event_and_one_detail(concurrently):
    customer = CustomerFactory()
    Identity.objects.create(customer=customer, kind="email", value=ADDRESS)
    mail("opening@gmail.com")
    details = [mail_row("twice@gmail.com"), mail_row("twice@gmail.com")]

    events = concurrently(lambda d: mail("twice@gmail.com", d), [(d,) for d in details])

    assert events[0].pk == events[1].pk
    assert sorted(d.pk is None for d in details) == [False, True]  # one wrote it
    assert Mail.objects.get(message_id="twice@gmail.com").event_id == events[0].pk
