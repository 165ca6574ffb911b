"""seed_journeys writes histories the journal and the figures accept as their own."""

import pytest
from django.core.management import call_command
from django.db.models import Count, Max

from conversations import journal
from conversations.models import Case, Conversation, Event
from insights import facts, figures
from insights.filters import Filters
from insights.seed import seed_journeys
from tests.insights.test_facts import snapshot

pytestmark = pytest.mark.django_db


def test_seeded_histories_are_consistent_and_fill_every_figure(capsys):
    call_command("seed_journeys", "--customers", "60", "--journeys", "4")
    assert "Seeded 60 customers" in capsys.readouterr().out
    # gap-free seq, and the summary knows the last one
    for conversation in Conversation.objects.annotate(n=Count("events"), top=Max("events__seq")):
        assert conversation.n == conversation.top == conversation.last_seq
    assert Case.objects.exclude(status="resolved").count() <= Conversation.objects.count()
    # the journal carries on after the seed
    conversation = Conversation.objects.filter(current_case=None).first()
    event = journal.record(customer=conversation.customer, channel="sms", kind="message",
                           direction="in", body="hello again")  # fmt: skip
    assert event.seq == conversation.last_seq + 1
    period = Filters.last_days(70)
    for key, figure in figures.FIGURES.items():
        if key not in ("outcomes",):
            assert figure(period).rows, key
    assert Event.objects.filter(kind="order").count() > 0


def test_each_batch_adds_the_facts_of_its_own_customers_as_a_rebuild_would():
    """The seed derives the facts of its new conversations only (facts.add_conversations),
    so that a batch costs the same however long the journal is: batches on top of one
    another end with the facts a rebuild from the whole journal gives."""
    for _ in range(2):
        seed_journeys(customers=25, journeys=4)
    seeded = snapshot()
    assert seeded["insights_contact"] and seeded["insights_journey"]
    facts.rebuild()
    assert snapshot() == seeded
