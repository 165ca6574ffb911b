from dataclasses import replace
from datetime import timedelta

import pytest
from django.utils import timezone

from conversations import journal
from conversations.context import CurrentIntent, Intent, build_context, greeting
from tests.factories import CustomerFactory, IdentityFactory

pytestmark = pytest.mark.django_db


def provide_colour(customer):
    return {"favourite_colour": "blue", "customer_seen": customer.pk}


def provide_nothing_but_trouble(customer):
    raise RuntimeError("this provider is broken")


def test_it_gathers_identities_consent_channels_and_the_open_case():
    customer = CustomerFactory(display_name="Ana")
    IdentityFactory(
        customer=customer, kind="phone", value="+14155550132", opted_out_at=timezone.now()
    )
    IdentityFactory(customer=customer, kind="email", value="ana@example.com")
    journal.record(
        customer=customer,
        channel="web",
        kind="message",
        direction="in",
        body="hi",
        occurred_at=timezone.now() - timedelta(hours=1),
    )
    journal.record(customer=customer, channel="sms", kind="message", direction="in", body="hello")

    context = build_context(customer)

    assert context.name == "Ana"
    assert context.consent == {"sms": False, "email": True}
    assert context.channels_used == ["sms", "web"]
    assert context.open_case is not None and len(context.recent) == 2  # fmt: skip


def test_providers_add_to_extra_and_a_broken_one_is_skipped(settings, caplog):
    settings.THROUGHLINE_CONTEXT_PROVIDERS = [
        "tests.conversations.test_context.provide_nothing_but_trouble",
        "tests.conversations.test_context.provide_colour",
    ]
    customer = CustomerFactory()

    context = build_context(customer)

    assert context.extra == {"favourite_colour": "blue", "customer_seen": customer.pk}
    assert "provide_nothing_but_trouble failed" in caplog.text


def test_providers_see_the_survivor_of_a_merge(settings):
    from conversations.identities import merge_customers

    settings.THROUGHLINE_CONTEXT_PROVIDERS = ["tests.conversations.test_context.provide_colour"]
    older, newer = CustomerFactory(), CustomerFactory()
    merge_customers(older, newer)

    assert build_context(newer).extra["customer_seen"] == older.pk


def context_with(settings, intent):
    """A context whose commerce part says `intent` (a dict as in the JSON view, or None)."""
    settings.THROUGHLINE_CONTEXT_PROVIDERS = []
    context = build_context(CustomerFactory())
    typed = Intent(**{**intent, "names": tuple(intent.get("names", ()))}) if intent else None
    return replace(context, parts={CurrentIntent: CurrentIntent(typed)})


def test_the_greeting_names_the_product_being_evaluated(settings):
    context = context_with(
        settings, {"kind": "evaluating", "name": "T900 treadmill", "sku": "T900"}
    )

    assert greeting(context) == "Can I help you with your evaluation of the T900 treadmill?"


@pytest.mark.parametrize(
    ("intent", "expected"),
    [
        ({"kind": "cart", "names": ["T900 treadmill"], "item_count": 1},
         "Any questions about the T900 treadmill in your cart?"),
        ({"kind": "cart", "names": ["T900 treadmill", "B200 bike"], "item_count": 3},
         "Any questions about the 3 items in your cart?"),
        ({"kind": "checkout", "names": ["T900 treadmill"], "item_count": 1},
         "Need a hand finishing your order? I'm here if anything is unclear."),
    ],
)  # fmt: skip
def test_the_greeting_speaks_of_the_cart(settings, intent, expected):
    assert greeting(context_with(settings, intent)) == expected


def test_without_a_signal_the_greeting_is_the_configured_default(settings):
    settings.WIDGET_DEFAULT_GREETING = "Welcome to Ride & Run! Ask us anything."

    assert greeting(context_with(settings, None)) == "Welcome to Ride & Run! Ask us anything."
