"""The offer over the real widget socket: it arrives as a pop-up frame when a frustrated
shopper connects, and the answer rings the agent through the voice click-to-call."""

import pytest
from channels.db import database_sync_to_async as sync_to_async  # closes its connection

from channels_adapters.voice.backends import LocmemBackend
from conversations import journal
from conversations.identities import resolve_customer
from conversations.models import Identity
from conversations.visitors import issue_visitor_token, new_visitor_id
from routing import rules
from routing.models import ContextualAction
from tests.channels_adapters.webchat.conftest import nothing_more, open_widget, receive_until
from tests.channels_adapters.webchat.conftest import site as site
from tests.routing.conftest import ALICE_PHONE, CUSTOMER_PHONE, profile

pytestmark = pytest.mark.django_db(transaction=True)
OFFER = "Sorry we missed you — talk to a treadmill specialist now?"


@sync_to_async
def frustrated_visitor(agent) -> str:
    """A known customer (phone, visitor id) with two missed calls; an agent on duty."""
    visitor_id = new_visitor_id()
    customer = resolve_customer("visitor", visitor_id)
    Identity.objects.create(customer=customer, kind="phone", value=CUSTOMER_PHONE)
    journal.record(customer=customer, channel="voice", kind="call", direction="in")
    for _ in range(2):
        journal.record(customer=customer, channel="voice", kind="missed_call", direction="in")
    ContextualAction.objects.create(
        name="Missed calls", condition={"frustration.missed_calls": {"gte": 2}}, message=OFFER
    )
    profile(agent, phone=ALICE_PHONE)
    rules.forget()  # the calls above were routed with the rules as they were then
    return issue_visitor_token(visitor_id)


async def test_the_offer_pops_up_and_call_me_now_rings_the_agent(site, agent):
    LocmemBackend.calls.clear()
    token = await frustrated_visitor(agent)

    widget, _, _ = await open_widget(site, token)
    frame = await receive_until(widget, "offer")

    assert frame["offer"]["body"] == OFFER
    assert [a["id"] for a in frame["offer"]["actions"]] == ["call_now", "schedule"]
    assert "data" not in frame["offer"] and "reason" not in frame["offer"]
    await widget.send_json_to(
        {"type": "offer_answer", "offer": frame["offer"]["id"], "choice": "call_now"}
    )
    result = await receive_until(widget, "offer_result")
    assert result["ok"] is True and "calling you now" in result["message"]
    assert [call.to for call in LocmemBackend.calls] == [ALICE_PHONE]

    # the next visit within the cooldown shows no offer
    await widget.disconnect()
    again, _, _ = await open_widget(site, token)
    assert await nothing_more(again, timeout=0.5)
    await again.disconnect()
    LocmemBackend.calls.clear()


async def test_a_malformed_answer_is_refused(site, agent):
    token = await frustrated_visitor(agent)
    widget, _, _ = await open_widget(site, token)
    await receive_until(widget, "offer")

    await widget.send_json_to({"type": "offer_answer", "offer": "1", "choice": "call_now"})
    error = await receive_until(widget, "error")

    assert error["code"] == "malformed"
    await widget.disconnect()
