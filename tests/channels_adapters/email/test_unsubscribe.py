"""RFC 8058: proactive mail carries one-click List-Unsubscribe; its POST opts the address out."""

import pytest
from django.test import Client

from channels_adapters.email.outbound import unsubscribe_url
from conversations import outbox
from conversations.models import Event, Identity, Outbox

from .helpers import DANA, emailing_customer, last_sent

pytestmark = pytest.mark.django_db


def nudge(customer) -> Event:
    event = outbox.send(
        customer=customer,
        channel="email",
        body="Your cart misses you",
        data={"nudge": 1, "subject": "Still thinking?"},
    )
    outbox.deliver(Outbox.objects.get(event=event).pk)
    return event


def test_a_nudge_carries_one_click_list_unsubscribe():
    event = nudge(emailing_customer(DANA))
    headers = last_sent().extra_headers
    assert headers["List-Unsubscribe"] == f"<{unsubscribe_url(event.pk)}>"
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert last_sent().subject == "Still thinking?"


def test_an_agents_answer_carries_none():
    from .helpers import answer

    answer(emailing_customer(DANA))
    assert "List-Unsubscribe" not in last_sent().extra_headers


def test_the_one_click_post_opts_the_address_out_and_records_it():
    event = nudge(emailing_customer(DANA))
    path = unsubscribe_url(event.pk).split("://", 1)[1].split("/", 1)[1]
    response = Client().post("/" + path, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    identity = Identity.objects.get(value=DANA)
    assert identity.opted_out_at is not None and identity.consent_source == "email:List-Unsubscribe"
    assert Event.objects.filter(kind="consent", channel="email").exists()


def test_a_get_changes_nothing():
    event = nudge(emailing_customer(DANA))
    path = "/" + unsubscribe_url(event.pk).split("://", 1)[1].split("/", 1)[1]
    response = Client().get(path)
    assert response.status_code == 200 and b'<form method="post"' in response.content
    assert Identity.objects.get(value=DANA).opted_out_at is None


def test_a_forged_token_is_403():
    nudge(emailing_customer(DANA))
    response = Client().post("/hooks/email/unsubscribe/1.forged/")
    assert response.status_code == 403
    assert Identity.objects.get(value=DANA).opted_out_at is None
