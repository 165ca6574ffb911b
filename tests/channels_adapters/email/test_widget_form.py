"""The widget's "Contact us" email form: the visitor's own conversation, answered by email."""

import pytest
from django.test import Client

from channels_adapters.webchat.models import Site
from conversations import journal
from conversations.models import Conversation, Event, Identity
from tests.channels_adapters.webchat.conftest import SHOP_ORIGIN, post, visitor

from .helpers import DANA, answer, emailing_customer, last_sent

pytestmark = pytest.mark.django_db


@pytest.fixture
def site():
    return Site.objects.create(name="Stride Fitness", allowed_origins=[SHOP_ORIGIN])


def send_form(site, visitor_token, **fields):
    body = {
        "site": site.public_key, "token": visitor_token, "email": DANA, "subject": "Treadmill",
        "body": "Is the T900 in stock?", "form_id": "f-0123456789",
    } | fields  # fmt: skip
    return post(Client(), "/widget/email", body)


def test_the_form_lands_in_the_visitors_conversation_after_her_chat_and_is_answered_by_email(site):
    visitor_id, token = visitor()
    chat = journal.record(
        identity=("visitor", visitor_id), channel="web", kind="message",
        direction=Event.Direction.IN, body="hello?",
    )  # fmt: skip
    response = send_form(site, token)
    assert response.status_code == 201, response.content
    assert response["Access-Control-Allow-Origin"] == SHOP_ORIGIN
    form = Event.objects.get(channel="email")
    assert form.conversation_id == chat.conversation_id
    assert form.data["subject"] == "Treadmill" and form.body == "Is the T900 in stock?"
    assert Identity.objects.get(kind="email").customer_id == chat.conversation.customer_id
    answer(Conversation.objects.get().customer)
    assert last_sent().to == [DANA] and last_sent().subject == "Re: Treadmill"


def test_a_double_submit_writes_one_event(site):
    _, token = visitor()
    assert send_form(site, token).status_code == 201
    assert send_form(site, token).status_code == 201
    assert Event.objects.filter(channel="email").count() == 1


def test_an_address_of_another_customer_is_never_merged_on_the_form(site):
    dana = emailing_customer(DANA)
    _, token = visitor()
    send_form(site, token)
    form = Event.objects.get(channel="email")
    assert form.conversation.customer_id != dana.pk
    assert form.data["address_of_another_customer"] is True
    assert Identity.objects.get(kind="email").customer_id == dana.pk


@pytest.mark.parametrize(
    ("fields", "status", "field"),
    [
        ({"email": "not an address"}, 422, "email"),
        ({"body": "  "}, 422, "body"),
        ({"form_id": "x"}, 400, "form_id"),
        ({"token": "forged"}, 403, "token"),
    ],
)
def test_bad_forms_are_refused_with_the_field(site, fields, status, field):
    _, token = visitor()
    response = send_form(site, token, **fields)
    assert response.status_code == status and response.json()["field"] == field
    assert not Event.objects.exists()


def test_another_origin_is_403(site):
    _, token = visitor()
    body = {
        "site": site.public_key,
        "token": token,
        "email": DANA,
        "body": "x",
        "form_id": "f-0123456789",
    }
    response = post(Client(), "/widget/email", body, origin="https://evil.example")
    assert response.status_code == 403
