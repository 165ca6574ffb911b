"""The sweep of what anonymous visitors left: only the empty and old goes."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from channels_adapters.webchat import inbound
from channels_adapters.webchat.models import PhoneVerification
from channels_adapters.webchat.sweeps import sweep_anonymous_leftovers
from channels_adapters.webchat.tasks import sweep_anonymous_task
from conversations.identities import link_identity, resolve_customer
from conversations.models import Conversation, Customer, Identity
from conversations.visitors import sweep_anonymous
from privacy.models import Preference

pytestmark = pytest.mark.django_db


def made(visitor_id: str, *, hours_ago: float) -> Customer:
    """A customer made for a visitor (as every session did before they were free)."""
    customer = resolve_customer("visitor", visitor_id)
    Customer.objects.filter(pk=customer.pk).update(
        created_at=timezone.now() - timedelta(hours=hours_ago)
    )
    return customer


def test_the_sweep_removes_only_old_empty_visitor_customers(site, settings):
    # given, past the 24 hours, customers worth keeping and one that never was
    settings.ANONYMOUS_SWEEP_AFTER = 24 * 60 * 60
    empty = made("v_empty", hours_ago=25)
    young = made("v_young", hours_ago=23)
    wrote = made("v_wrote", hours_ago=25)
    inbound.receive_message(visitor_id="v_wrote", client_id="c-1", body="hello")
    phoned = made("v_phoned", hours_ago=25)
    link_identity(phoned, "phone", "+14155550123", verified=True)
    chose = made("v_chose", hours_ago=25)
    Preference.objects.create(customer=chose, topic="marketing", channel="sms", allowed=False)
    two_visits = made("v_two", hours_ago=25)
    Identity.objects.create(customer=two_visits, kind="visitor", value="v_two_again")
    old_code = PhoneVerification.objects.create(
        site=site,
        visitor_id="v_empty",
        phone="+14155550123",
        code_hash="x",
        expires_at=timezone.now(),
        created_at=timezone.now() - timedelta(hours=25),
    )
    new_code = PhoneVerification.objects.create(
        site=site,
        visitor_id="v_young",
        phone="+14155550123",
        code_hash="y",
        expires_at=timezone.now(),
    )

    # when the sweep runs
    swept = sweep_anonymous_leftovers()

    # then the empty one (and its identity and conversation) went, with the old code
    assert (swept.customers, swept.phone_codes) == (2, 1)
    kept = set(Customer.objects.values_list("pk", flat=True))
    assert kept == {young.pk, wrote.pk, phoned.pk, chose.pk}
    assert not Identity.objects.filter(value__in=["v_empty", "v_two", "v_two_again"]).exists()
    assert not Conversation.objects.filter(customer_id__in=[empty.pk, two_visits.pk]).exists()
    assert list(PhoneVerification.objects.values_list("pk", flat=True)) == [new_code.pk]
    assert not PhoneVerification.objects.filter(pk=old_code.pk).exists()


def test_the_sweep_keeps_customers_that_others_were_merged_into():
    survivor = made("v_survivor", hours_ago=48)
    other = made("v_other", hours_ago=47)
    Customer.objects.filter(pk=other.pk).update(merged_into=survivor)

    sweep_anonymous_leftovers()

    assert Customer.objects.filter(pk=survivor.pk).exists()


def test_a_swept_visitor_who_comes_back_starts_afresh(site):
    made("v_back", hours_ago=30)
    sweep_anonymous_task()

    event = inbound.receive_message(visitor_id="v_back", client_id="c-1", body="me again")

    assert Customer.objects.count() == 1
    assert event.conversation.customer.identities.get().value == "v_back"


def test_the_sweep_works_in_bounded_batches_and_the_command_runs_it(capsys):
    for n in range(5):
        made(f"v_{n}", hours_ago=30)

    assert sweep_anonymous(batch_size=2, max_batches=2) == 4
    call_command("sweep_anonymous")

    assert Customer.objects.count() == 0
    assert "removed 1 empty visitor customers" in capsys.readouterr().out
