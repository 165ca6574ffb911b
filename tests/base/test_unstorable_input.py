"""Forms and queries the console serves: odd digits and NUL characters are 400s, never 500s.

`base.middleware.RefuseUnstorableInput` refuses a NUL anywhere in a path, query or
form before any view runs (`RefuseUnstorableSocket` at a websocket's handshake);
`base.inputs.ascii_int` reads numbers as ASCII digits.
"""

import pytest
from channels.testing import WebsocketCommunicator
from django.urls import reverse

from base.inputs import ascii_int, unstorable
from config.asgi import application
from conversations import journal
from conversations.identities import resolve_customer
from conversations.models import Conversation, Event

pytestmark = pytest.mark.django_db


def texting() -> Conversation:
    customer = resolve_customer("phone", "+14155550132")
    journal.record(customer=customer, channel="sms", kind="message", direction="in", body="Hi")
    return Conversation.objects.get(customer=customer)


def action_url(name, conversation):
    return reverse(f"admin:conversations_{name}", args=[conversation.pk])


@pytest.mark.parametrize("text", ["²", "३", "-1", "1.0", " 1", "", "1" * 20, str(2**63)])
def test_only_ascii_digits_make_a_number(text):
    assert ascii_int(text) is None


def test_a_number_is_read_within_its_range():
    assert ascii_int("0042") == 42
    assert ascii_int(str(2**63 - 1)) == 2**63 - 1  # 19 digits: every bigint is a number
    assert ascii_int("42", high=41) is None
    assert ascii_int("4", low=5) is None


def test_nul_and_lone_surrogates_are_named():
    assert unstorable("ok é") is None
    assert "NUL" in unstorable("a\x00b")
    assert "surrogate" in unstorable("a\ud800b")


def test_a_note_with_a_nul_is_refused_and_writes_nothing(client, agent):
    client.force_login(agent)
    conversation = texting()
    before = Event.objects.count()

    response = client.post(
        action_url("note", conversation),
        "body=VIP%00",  # a browser's form, url-encoded
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 400
    assert "NUL" in response.content.decode()
    assert Event.objects.count() == before


def test_a_nul_in_a_query_is_a_400(client, agent):
    client.force_login(agent)
    conversation = texting()
    url = reverse("admin:conversations_conversation_change", args=[conversation.pk])

    assert client.get(url, {"before": "1\x00"}).status_code == 400
    assert client.get(url, {"q\x00": "1"}).status_code == 400


@pytest.mark.parametrize("odd", ["²", "³", "١٢"])
def test_odd_digits_are_no_number_for_the_console(client, agent, odd):
    client.force_login(agent)
    conversation = texting()
    page = reverse("admin:conversations_conversation_change", args=[conversation.pk])

    assert client.get(page, {"before": odd}).status_code == 200
    assert client.post(action_url("assign", conversation), {"assignee": odd}).status_code == 400
    inbox = reverse("admin:conversations_inbox")
    assert client.get(inbox, {"assignee": odd, "store": odd}).status_code == 200
    assert client.post(action_url("merge", conversation), {"other": odd}).status_code < 500


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "query", ["site=%00&token=x", "site=x&token=%00", "site=x&token=x&after_seq=1%00", "%00=1"]
)
async def test_a_socket_with_a_nul_in_its_query_is_denied_at_the_handshake(query):
    # the widget socket looks its site up by ?site=: a NUL there failed in PostgreSQL (a 500)
    communicator = WebsocketCommunicator(
        application, f"/ws/widget/?{query}", headers=[(b"origin", b"http://localhost:3000")]
    )

    connected, _ = await communicator.connect(timeout=5)

    assert not connected
    await communicator.disconnect()
