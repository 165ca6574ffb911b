"""Names from any source (conversations/names.py): what the customer gave anywhere names
her, the more trusted source wins, an agent's typing wins over everything automatic."""

import pytest
from django.urls import reverse

from commerce.ingest import ingest_event
from conversations.identities import merge_customers, resolve_customer
from conversations.models import Customer
from conversations.names import (
    from_caller_name,
    from_email_address,
    named_by_agent,
    offer_name,
)
from tests.commerce.helpers import T900

pytestmark = pytest.mark.django_db


def fresh(customer) -> Customer:
    return Customer.objects.get(pk=customer.pk)


def placed(customer, event_id, name, order_id="1001"):
    payload = {"order_id": order_id, "currency": "USD", "items": [T900], "customer_name": name}
    return ingest_event(customer=customer, event_id=event_id, type="order_placed", payload=payload)


@pytest.mark.parametrize(
    ("cnam", "name"),
    [
        ("WHITFIELD,DANA", "Dana Whitfield"),
        ("DANA WHITFIELD", "Dana Whitfield"),
        ("Dana McWhitfield", "Dana McWhitfield"),
        ("WIRELESS CALLER", ""),
        ("unknown", ""),
        ("+14155550123", ""),
        ("", ""),
    ],
)
def test_caller_names_are_read_as_a_person_writes_them(cnam, name):
    assert from_caller_name(cnam) == name


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ('"Dana Whitfield" <dana@example.com>', "Dana Whitfield"),
        ("Dana  Whitfield <dana@example.com>", "Dana Whitfield"),
        ("dana@example.com", ""),
        ('"dana@example.com" <dana@example.com>', ""),
    ],
)
def test_email_display_names(header, name):
    assert from_email_address(header) == name


def test_an_order_names_a_customer_who_never_gave_her_name(django_capture_on_commit_callbacks):
    customer = resolve_customer("phone", "+14155550140")
    with django_capture_on_commit_callbacks(execute=True):
        placed(customer, "o1", "  Dana   Whitfield ", order_id="4242")

    customer = fresh(customer)
    assert (customer.display_name, customer.name_source) == ("Dana Whitfield", "order:4242")
    assert str(customer) == "Dana Whitfield"


def test_a_more_trusted_source_wins_and_a_less_trusted_one_does_not(
    django_capture_on_commit_callbacks,
):
    customer = resolve_customer("phone", "+14155550141")
    assert offer_name(customer, "Whitfield Dana", source="call")
    assert offer_name(customer, "Dana Whitfield", source="order", detail="1")
    assert not offer_name(customer, "D. Whitfield", source="order", detail="2")  # first stays
    assert not offer_name(customer, "DANA W", source="call")
    assert offer_name(customer, "Dana J. Whitfield", source="identify")
    assert (fresh(customer).display_name, fresh(customer).name_source) == (
        "Dana J. Whitfield",
        "identify",
    )


def test_a_name_given_at_creation_is_not_replaced_by_a_caller_name():
    customer = resolve_customer("phone", "+14155550142", display_name="Priya Raman")
    assert not offer_name(customer, "RAMAN,P", source="call")
    assert offer_name(customer, "Priya K. Raman", source="identify")


def test_an_agents_name_wins_and_stays(agent, django_capture_on_commit_callbacks):
    customer = resolve_customer("phone", "+14155550143")
    offer_name(customer, "Dana Whitfield", source="identify")
    assert named_by_agent(customer, "Dana (prefers Dee)", by=agent)
    with django_capture_on_commit_callbacks(execute=True):
        placed(customer, "o1", "Dana Whitfield")
    assert not offer_name(customer, "Dana Whitfield", source="identify")

    customer = fresh(customer)
    assert (customer.display_name, customer.name_source) == ("Dana (prefers Dee)", "agent:alice")


def test_nothing_nameless_names_anyone():
    customer = resolve_customer("phone", "+14155550144")
    assert not offer_name(customer, "   ", source="order")
    assert not offer_name(customer, "12345", source="order")
    assert not offer_name(customer, "\x00\x07", source="order")
    with pytest.raises(ValueError):
        offer_name(customer, "Dana", source="guess")
    assert fresh(customer).display_name == ""
    assert str(fresh(customer)) == f"Unnamed customer #{customer.pk}"


def test_a_merge_keeps_the_more_trusted_name():
    older = resolve_customer("phone", "+14155550145")
    offer_name(older, "DANA W", source="call")
    newer = resolve_customer("email", "dana@example.com")
    offer_name(newer, "Dana Whitfield", source="identify")

    merge_customers(older, newer)

    survivor = fresh(older) if fresh(newer).merged_into_id else fresh(newer)
    assert (survivor.display_name, survivor.name_source) == ("Dana Whitfield", "identify")


def test_the_customer_admin_records_an_agents_name_and_titles_the_page(admin_client):
    customer = resolve_customer("phone", "+14155550146")
    offer_name(customer, "Dana Whitfield", source="order", detail="7")
    url = reverse("admin:conversations_customer_change", args=[customer.pk])

    page = admin_client.get(url)
    assert "<title>Dana Whitfield |" in page.content.decode()
    assert "order:7" in page.content.decode()  # where the name came from

    response = admin_client.post(
        url,
        {
            "display_name": "Dee Whitfield",
            "locale": "",
            "time_zone": "",
            "identities-TOTAL_FORMS": "1",
            "identities-INITIAL_FORMS": "1",
            "identities-MIN_NUM_FORMS": "0",
            "identities-MAX_NUM_FORMS": "1000",
            "identities-0-id": customer.identities.get().pk,
            "identities-0-customer": customer.pk,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    customer = fresh(customer)
    assert (customer.display_name, customer.name_source) == ("Dee Whitfield", "agent:admin")
