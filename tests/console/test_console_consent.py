"""The console's consent actions: "the customer asked us to stop", and an agent's answer
to a possible request to stop."""

import pytest
from django.urls import reverse

from conversations import consent_review
from conversations.identities import resolve_customer
from conversations.models import Event, Identity

pytestmark = pytest.mark.django_db
PHONE = "+14155550123"


@pytest.fixture
def customer():
    return resolve_customer("phone", PHONE)


def test_an_agent_records_that_the_caller_asked_us_to_stop(client, agent, customer):
    client.force_login(agent)

    response = client.post(
        reverse("admin:conversations_asked_to_stop", args=[customer.conversation.pk]),
        {"words": "Stop calling me"},
    )

    assert response.status_code == 302
    identity = Identity.objects.get(value=PHONE)
    assert identity.opted_out_at is not None and identity.consent_source == "agent:asked to stop"
    event = Event.objects.get(kind="consent")
    assert event.author == agent and event.body == "Stop calling me"


def test_an_outsider_cannot_record_a_stop(client, outsider, customer):
    client.force_login(outsider)

    client.post(reverse("admin:conversations_asked_to_stop", args=[customer.conversation.pk]))

    assert Identity.objects.get(value=PHONE).opted_out_at is None


def test_the_page_shows_a_possible_stop_and_confirm_opts_out(client, agent, customer):
    identity = customer.identities.get()
    consent_review.flag_revocation(
        identity, words="stop", source="sms:possible stop", channel="sms"
    )
    client.force_login(agent)
    page = reverse("admin:conversations_conversation_change", args=[customer.conversation.pk])
    (flag,) = consent_review.pending_flags(customer.conversation)

    html = client.get(page).content.decode()
    client.post(
        reverse("admin:conversations_review_stop_request", args=[customer.conversation.pk]),
        {"flag": str(flag.pk), "decision": "confirm"},
    )

    assert f'class="consent-flag" role="alert" data-flag="{flag.pk}"' in html
    assert f'name="flag" value="{flag.pk}"' in html
    assert Identity.objects.get(value=PHONE).opted_out_at is not None
    assert 'class="consent-flag"' not in client.get(page).content.decode()
