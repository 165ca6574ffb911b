"""The founding story: she chats without success, emails the shop, then calls. One
conversation, one case, and the insights count it as not resolved at first contact."""

from datetime import timedelta

import pytest

from conversations import journal
from conversations.cases import resolve_case
from conversations.identities import link_identity, resolve_customer
from conversations.models import Case, Conversation, Event
from insights import facts, figures
from insights.filters import Filters
from tests.fakes.email_payloads import post_postmark, postmark_inbound
from tests.insights.journeys import T0, at

from .helpers import DANA

pytestmark = pytest.mark.django_db
PERIOD = Filters(start=T0 - timedelta(days=1), end=T0 + timedelta(days=1))


def test_chat_then_email_then_call_is_one_conversation_one_case_and_not_fcr(agent):
    # The widget knows her: the shop's signed identify gave her email and phone.
    dana = resolve_customer("visitor", "v-dana")
    link_identity(dana, "email", DANA, verified=True)
    link_identity(dana, "phone", "+14155550123", verified=True)
    with at(0):
        journal.record(
            identity=("visitor", "v-dana"), channel="web", kind="message",
            direction=Event.Direction.IN, body="Where is my treadmill?",
        )  # fmt: skip
    with at(45):  # nobody answered the chat: she emails the shop
        response = post_postmark(
            "/hooks/email/postmark/inbound/",
            postmark_inbound(message_id="story@mail.gmail.com", Subject="Order 48213?"),
        )
        assert response.status_code == 200
    with at(120):  # nothing useful by email either: she calls
        journal.record(
            identity=("phone", "+14155550123"), channel="voice", kind="call",
            direction=Event.Direction.IN, body="",
        )  # fmt: skip
    assert Conversation.objects.count() == 1
    conversation = Conversation.objects.get()
    channels = list(
        conversation.events.filter(direction="in").order_by("seq").values_list("channel", flat=True)
    )
    assert channels == ["web", "email", "voice"]
    case = Case.objects.get(conversation=conversation)
    assert conversation.events.filter(direction="in").exclude(case=case).count() == 0
    with at(130):
        resolve_case(case, by=agent)
    facts.rebuild()

    rows = {row[0]: row[1:] for row in figures.first_contact_resolution(PERIOD).rows}
    assert rows["all channels (true)"] == (1, 0, 0.0)  # three contacts: not FCR
    assert rows["email (naive)"] == (1, 1, 100.0)  # what an email-only tool would claim
    assert figures.channel_switching(PERIOD).rows == [("email", "voice", 1), ("web", "email", 1)]
