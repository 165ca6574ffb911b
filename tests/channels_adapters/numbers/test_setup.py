"""Accounts and numbers as rows: the migration from today's settings, a single-number shop
unchanged, the admin pages, where tokens live, and the console's line."""

import importlib

import pytest
from django.apps import apps
from django.db import IntegrityError
from django.urls import reverse

from channels_adapters.numbers.models import MessagingNumber, NumberConsent, TwilioAccount
from channels_adapters.sms.outbound import send_sms
from conversations import outbox
from conversations.models import Event, Identity, Outbox
from tests.factories import CustomerFactory
from tests.instore.factories import StoreFactory

from .conftest import (
    ACCOUNT_A,
    ACCOUNT_B,
    NUMBER_A,
    NUMBER_B,
    SHOPPER,
    TOKEN_A,
    TOKEN_B,
    UNKNOWN,
    sms_sid,
)

pytestmark = pytest.mark.django_db

from_settings = importlib.import_module(
    "channels_adapters.numbers.migrations.0002_from_settings"
).from_settings

SETTINGS_SID = "AC" + "5" * 32
SETTINGS_TOKEN = "the-one-token-of-a-single-shop-00"
SHOP_NUMBER = "+14155550100"
STORE_PHONE = "+14155550300"


@pytest.fixture
def single_shop(settings, monkeypatch):
    """A deployment as it was: one account and one number, in the environment."""
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", SETTINGS_TOKEN)
    settings.TWILIO_ACCOUNT_SID = SETTINGS_SID
    settings.TWILIO_AUTH_TOKEN = SETTINGS_TOKEN
    settings.TWILIO_FROM_NUMBER = SHOP_NUMBER
    settings.VOICE_FROM_NUMBER = SHOP_NUMBER
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    return settings


def text(webhooks, to, n, *, account=SETTINGS_SID, token=SETTINGS_TOKEN):
    return webhooks.sms(to=to, account=account, token=token, sid=sms_sid(n))


def test_a_single_number_shop_with_no_rows_works_as_before(single_shop, webhooks, sent_sms):
    assert not TwilioAccount.objects.exists() and not MessagingNumber.objects.exists()

    # any To, as before: the settings' token is the only check
    assert text(webhooks, SHOP_NUMBER, 1).status_code == 200
    assert text(webhooks, UNKNOWN, 2).status_code == 200
    assert text(webhooks, SHOP_NUMBER, 3, token=TOKEN_A).status_code == 403
    event = send_sms(customer=Identity.objects.get(value=SHOPPER).customer, body="hi")
    outbox.deliver(Outbox.objects.get(event=event).pk)
    assert sent_sms[0].from_number == SHOP_NUMBER


def test_the_migration_moves_the_settings_into_rows_and_keeps_the_token_out(
    single_shop, webhooks, sent_sms
):
    downtown = StoreFactory(name="Downtown", phone=STORE_PHONE, business_hours={})
    StoreFactory(name="Uptown", phone=SHOP_NUMBER, business_hours={})  # the shop's number too

    from_settings(apps, None)
    from_settings(apps, None)  # again: nothing more

    account = TwilioAccount.objects.get()
    assert (account.account_sid, account.auth_token_env) == (SETTINGS_SID, "TWILIO_AUTH_TOKEN")
    columns = TwilioAccount.objects.values_list().get()
    assert all(SETTINGS_TOKEN not in str(value) for value in columns)
    rows = {n.phone_number: n for n in MessagingNumber.objects.select_related("store")}
    assert set(rows) == {SHOP_NUMBER, STORE_PHONE}
    assert rows[SHOP_NUMBER].is_default and rows[SHOP_NUMBER].store.name == "Uptown"
    assert rows[STORE_PHONE].store == downtown and not rows[STORE_PHONE].is_default

    # the same environment keeps working: the shop's and the store's numbers, nothing else
    assert text(webhooks, SHOP_NUMBER, 1).status_code == 200
    assert text(webhooks, STORE_PHONE, 2).status_code == 200
    assert text(webhooks, UNKNOWN, 3).status_code == 403
    customer = Identity.objects.get(value=SHOPPER).customer
    event = send_sms(customer=customer, body="hi")
    outbox.deliver(Outbox.objects.get(event=event).pk)
    assert sent_sms[0].from_number == STORE_PHONE  # the number they last wrote to


@pytest.mark.parametrize(
    "change",
    [
        {"TWILIO_ACCOUNT_SID": ""},  # no Twilio: nothing to move
        {"TWILIO_AUTH_TOKEN": ""},
        {"TWILIO_MESSAGING_SERVICE_SID": "MG" + "1" * 32},  # its pool numbers are unknown
    ],
)
def test_the_migration_writes_nothing_it_cannot_describe_whole(single_shop, change):
    for name, value in change.items():
        setattr(single_shop, name, value)

    from_settings(apps, None)

    assert not TwilioAccount.objects.exists() and not MessagingNumber.objects.exists()


@pytest.mark.parametrize(
    "sources", [{"auth_token_env": "A", "auth_token_key": "a"}, {}], ids=["both", "neither"]
)
def test_an_account_names_exactly_one_place_for_its_token(sources):
    with pytest.raises(IntegrityError):
        TwilioAccount.objects.create(label="x", account_sid=ACCOUNT_A, **sources)


def test_one_default_number_at_most(shop):
    with pytest.raises(IntegrityError):
        MessagingNumber.objects.create(account=shop["b"], phone_number=UNKNOWN, is_default=True)


def test_the_admin_pages_list_add_and_pick_a_store(shop, admin_client):
    for name in ("twilioaccount", "messagingnumber"):
        assert admin_client.get(reverse(f"admin:numbers_{name}_changelist")).status_code == 200
        assert admin_client.get(reverse(f"admin:numbers_{name}_add")).status_code == 200
    account_page = admin_client.get(
        reverse("admin:numbers_twilioaccount_change", args=[shop["b"].pk])
    )
    assert TOKEN_B not in account_page.content.decode()

    refused = admin_client.post(
        reverse("admin:numbers_twilioaccount_add"),
        {
            "label": "Leaky",
            "account_sid": "AC" + "d" * 32,
            "auth_token_env": "not a variable name",
            "auth_token_key": "",
            "active": "on",
            "numbers-TOTAL_FORMS": "0",
            "numbers-INITIAL_FORMS": "0",
        },
    )
    assert refused.status_code == 200 and b"The NAME of the variable" in refused.content
    added = admin_client.post(
        reverse("admin:numbers_messagingnumber_add"),
        {
            "account": shop["b"].pk,
            "store": shop["harbor"].pk,
            "phone_number": "+14155550203",
            "messaging_service_sid": "",
            "sms": "on",
            "voice": "on",
            "active": "on",
        },
    )
    assert added.status_code == 302
    assert MessagingNumber.objects.get(phone_number="+14155550203").store == shop["harbor"]
    picker = admin_client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "numbers",
            "model_name": "messagingnumber",
            "field_name": "store",
            "term": "Harb",
        },
    )
    assert [r["text"] for r in picker.json()["results"]] == ["Harbor"]


def test_the_console_shows_our_number_and_the_opt_outs_per_number(shop, webhooks, client, agent):
    webhooks.sms(to=NUMBER_B, account=ACCOUNT_B, token=TOKEN_B, sid=sms_sid(1))
    webhooks.sms(to=NUMBER_B, account=ACCOUNT_B, token=TOKEN_B, sid=sms_sid(2), body="STOP")
    customer = Identity.objects.get(value=SHOPPER).customer
    client.force_login(agent)

    page = client.get(
        reverse("admin:conversations_conversation_change", args=[customer.conversation.pk])
    ).content.decode()

    assert f"{NUMBER_B} (Harbor)" in page
    assert f"opted out of {NUMBER_B}" in page
    assert NumberConsent.objects.get().action == "opt_out"


def test_erasure_takes_the_per_number_consent_notes(shop, webhooks):
    from channels_adapters.numbers.optouts import erase

    webhooks.sms(to=NUMBER_A, account=ACCOUNT_A, token=TOKEN_A, sid=sms_sid(3), body="STOP")
    customer = CustomerFactory()
    Identity.objects.create(customer=customer, kind="phone", value="+14155550150")
    counts: dict[str, int] = {}

    erase(customer, counts)  # someone else: theirs stay
    assert counts == {"number consents": 0} and NumberConsent.objects.count() == 1
    erase(Identity.objects.get(value=SHOPPER).customer, counts)
    assert counts == {"number consents": 1} and not NumberConsent.objects.exists()
    assert Event.objects.filter(kind="consent").count() == 1
