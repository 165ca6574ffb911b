"""The preference page behind a signed link, and the engagement gate that honours it."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from conversations import consent
from conversations.identities import resolve_customer
from conversations.links import token_for, url_for
from conversations.models import Event, Identity
from privacy.gates import gate
from privacy.models import Preference
from privacy.preferences import allows, choices_of, set_preferences

pytestmark = pytest.mark.django_db


@pytest.fixture
def shopper():
    return resolve_customer("phone", "+14155550123")


def page_path(customer):
    return f"/c/{token_for(customer, 'preferences')}/preferences/"


def test_the_page_ticks_what_is_allowed_and_not_marketing_texts_without_consent(client, shopper):
    response = client.get(page_path(shopper))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="viewport"' in html  # made for phones first
    for name in ["order_updates:sms", "cart_reminders:web", "offers:web", "service_followups:web"]:
        assert f'name="{name}" checked' in html
    for name in ["offers:sms", "cart_reminders:sms"]:  # need consent, and there is none
        assert f'name="{name}">' in html


def test_unticking_cart_reminders_by_text_is_stored_and_recorded_as_consent(client, shopper):
    ticked = {
        f"{t}:{c}": "on"
        for t in ["order_updates", "cart_reminders", "offers", "service_followups"]
        for c in ["sms", "web"]
    }
    del ticked["cart_reminders:sms"]
    response = client.post(page_path(shopper), ticked)
    assert response.status_code == 302
    assert not allows(shopper, topic="cart_reminders", channel="sms")
    assert allows(shopper, topic="cart_reminders", channel="web")
    assert allows(shopper, topic="order_updates", channel="sms")
    # offers by text were shown unticked (no consent): ticking them is a grant
    [event] = shopper.conversation.events.filter(kind="consent", data__topic="cart_reminders")
    assert event.data == {
        "action": "preference",
        "topic": "cart_reminders",
        "channel": "sms",
        "allowed": False,
        "source": "preferences page",
    }
    # the same choices again change nothing and record nothing
    client.post(page_path(shopper), ticked)
    assert shopper.conversation.events.filter(kind="consent").count() == 2
    assert (
        'name="cart_reminders:sms">' in client.get(page_path(shopper) + "?saved=1").content.decode()
    )


def test_the_gate_suppresses_only_what_the_customer_turned_off(shopper):
    now = timezone.now()
    set_preferences(shopper, {("cart_reminders", "sms"): False}, source="test")
    assert gate(shopper, topic="cart_reminders", channel="sms", now=now) == (
        "preference: cart reminders off by sms"
    )
    assert gate(shopper, topic="order_updates", channel="sms", now=now) is None
    assert gate(shopper, topic="cart_reminders", channel="web", now=now) is None


def test_stop_still_stops_everything_whatever_the_preferences(shopper):
    # the page never turns STOP into START: the identity stays opted out
    identity = Identity.objects.get(customer=shopper, kind="phone")
    consent.opt_out(identity, source="sms:STOP")
    set_preferences(shopper, {("order_updates", "sms"): True, ("offers", "sms"): False}, source="t")
    assert consent.is_opted_out("phone", "+14155550123")


@pytest.mark.parametrize(
    "token",
    ["nonsense", "eyJjIjoxLCJwIjoicHJlZmVyZW5jZXMifQ:1abc:forged"],
)
def test_a_forged_link_is_refused_with_the_reason(client, shopper, token):
    response = client.get(f"/c/{token}/preferences/")
    assert response.status_code == 400
    assert "not valid" in response.content.decode()


def test_a_link_for_another_page_or_an_expired_one_does_not_open_it(client, shopper):
    other = token_for(shopper, "callback")
    assert client.get(f"/c/{other}/preferences/").status_code == 400
    path = page_path(shopper)
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        response = client.get(path)
    assert response.status_code == 400
    assert "expired" in response.content.decode()


def test_what_customers_write_cannot_reach_the_page_unescaped(client, shopper):
    shopper.display_name = "<script>alert(1)</script>"
    shopper.save()
    assert "<script>alert" not in client.get(page_path(shopper)).content.decode()


def test_the_url_for_messages_is_absolute(shopper, settings):
    assert url_for(shopper, "preferences").startswith(settings.PUBLIC_BASE_URL + "/c/")


def test_merging_keeps_every_off(shopper):
    from conversations.identities import link_identity

    other = resolve_customer("email", "z@example.org")
    set_preferences(other, {("offers", "web"): False}, source="t")
    set_preferences(shopper, {("offers", "sms"): False}, source="t")
    survivor = link_identity(shopper, "email", "z@example.org")
    choices = choices_of(survivor)
    assert not choices[("offers", "web")] and not choices[("offers", "sms")]
    assert Preference.objects.filter(customer=survivor, allowed=False).count() == 2
    assert Event.objects.filter(kind="consent").count() == 2
