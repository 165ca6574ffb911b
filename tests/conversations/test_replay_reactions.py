"""`manage.py replay_reactions`: re-deriving what reactions make, idempotently (issue 17)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from conversations import journal, reactions
from conversations.models import Case, Event, PendingReaction
from engagement import attribution
from engagement.models import Nudge, Watch
from insights.models import CaseFact, ChannelUsed, Contact, Journey, Outcome, SentMessage
from routing.models import CaseAssignment
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
DERIVED = (Event, Case, Nudge, Watch, Contact, CaseFact, ChannelUsed, SentMessage, Journey)
DERIVED += (Outcome, CaseAssignment, PendingReaction)


def snapshot() -> dict:
    """Every row reactions write, by table."""
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in DERIVED}


def sent_nudge(customer, key="n1", decided_at=T0) -> Nudge:
    return Nudge.objects.create(
        customer=customer,
        rule="cart_abandoned",
        dedupe_key=key,
        topic="cart_reminders",
        body="Still thinking about the T900?",
        status=Nudge.Status.SENT,
        channel="sms",
        due_at=decided_at,
        proposed_at=decided_at,
        decided_at=decided_at,
    )


def live_day(customer):
    """A customer's day, each reaction run as it happens (inline): a nudge, her texts, an
    agent's answer, an order."""
    # an hour before her texts, which the journal stamps "now": inside the attribution
    # window whatever day the suite runs (a fixed date slid out of it a week later)
    sent_nudge(customer, decided_at=datetime.now(UTC) - timedelta(hours=1))
    fields = {"customer": customer, "channel": Event.Channel.SMS, "kind": "message"}
    journal.record(**fields, direction="in", body="Is the T900 in stock?", source_id="SM1")
    journal.record(**fields, direction="out", body="It is!", source_id="SM2")
    journal.record(**fields, direction="in", body="Great, thanks", source_id="SM3")
    journal.record(  # after her texts: the evaluation watch it arms must stay open
        customer=customer,
        channel=Event.Channel.WEB,
        kind="product_view",
        direction=Event.Direction.IN,
        data={"sku": "T900", "name": "T900 Folding Treadmill"},
        source_id="view-1",
    )
    journal.record(
        customer=customer,
        channel=Event.Channel.API,
        kind="order",
        direction=Event.Direction.IN,
        data={"order_id": "A-1"},
        source_id="order-A-1",
    )


def replay(since: datetime, until: datetime | None = None) -> str:
    out = StringIO()
    args = ["--since", since.isoformat()] + (["--until", until.isoformat()] if until else [])
    call_command("replay_reactions", *args, stdout=out)
    return out.getvalue()


def test_replaying_after_normal_processing_changes_nothing_and_twice_neither():
    customer = CustomerFactory()
    start = datetime.now(UTC) - timedelta(minutes=1)
    live_day(customer)
    before = snapshot()
    assert before["Nudge"][0]["replied_at"] is not None  # the reactions did run
    assert before["ChannelUsed"] and before["SentMessage"]
    assert [w["closed_reason"] for w in before["Watch"]] == [""]  # armed after her texts

    assert "replayed the reactions of" in replay(start)
    assert snapshot() == before
    replay(start)
    assert snapshot() == before


def test_a_replay_fills_in_reactions_whose_hand_over_was_lost(settings):
    settings.THROUGHLINE_REACTIONS_MODE = "stream"  # nothing runs in this process
    customer = CustomerFactory()
    start = datetime.now(UTC) - timedelta(minutes=1)
    live_day(customer)
    PendingReaction.objects.all().delete()  # lost (as before there were these rows)
    assert not ChannelUsed.objects.exists()
    assert Nudge.objects.get().replied_at is None

    replay(start)

    nudge = Nudge.objects.get()
    first_reply = Event.objects.get(source_id="SM1")
    assert nudge.replied_at == first_reply.occurred_at
    assert nudge.ordered_at == Event.objects.get(source_id="order-A-1").occurred_at
    assert ChannelUsed.objects.filter(conversation_id=first_reply.conversation_id).exists()
    assert Contact.objects.filter(case_id=first_reply.case_id).exists()
    assert Case.objects.get(pk=first_reply.case_id).intent  # routed
    assert SentMessage.objects.get().replied_at == Event.objects.get(source_id="SM3").occurred_at
    filled = snapshot()
    replay(start)
    assert snapshot() == filled


def test_a_range_replays_only_its_own_events(settings):
    settings.THROUGHLINE_REACTIONS_MODE = "stream"
    customer = CustomerFactory()
    live_day(customer)
    PendingReaction.objects.all().delete()

    out = replay(datetime.now(UTC) + timedelta(hours=1), datetime.now(UTC) + timedelta(hours=2))

    assert "replayed the reactions of 0 events" in out
    assert not ChannelUsed.objects.exists()


def test_attribution_keeps_the_earliest_follow_up_whatever_the_order(settings):
    settings.THROUGHLINE_EVENT_REACTIONS = []
    customer = CustomerFactory()
    nudge = sent_nudge(customer)

    # the later reply's reaction ran first (the earlier one's was retried, or replayed)
    attribution.attribute(customer.pk, "replied_at", T0 + timedelta(hours=2))
    attribution.attribute(customer.pk, "replied_at", T0 + timedelta(hours=1))
    nudge.refresh_from_db()
    assert nudge.replied_at == T0 + timedelta(hours=1)

    assert attribution.attribute(customer.pk, "replied_at", T0 + timedelta(hours=2)) == 0


def test_while_replaying_reactions_know_it():
    customer = CustomerFactory()
    event = journal.record(
        customer=customer, channel="sms", kind="message", direction="in", source_id="SM1"
    )
    assert reactions.replaying() is None
    with reactions.replay_of(event):
        assert reactions.replaying() == event
    assert reactions.replaying() is None


@pytest.mark.parametrize(
    "args, error",
    [
        (["--since", "yesterday"], "'yesterday' is not a time"),
        (["--since", "2026-02-30"], "'2026-02-30' is not a time"),
        (["--since", "2026-11-30", "--until", "2026-11-29"], "--until must come after"),
        (["--since", "2026-11-30", "--batch", "0"], "--batch must be at least 1"),
    ],
)
def test_bad_arguments_say_what_is_wrong(args, error):
    with pytest.raises(CommandError, match=error):
        call_command("replay_reactions", *args)
