"""Call backs and offers follow a merge; an erasure cancels waiting call backs."""

from datetime import timedelta

import pytest
from django.utils import timezone

from conversations.identities import merge_customers
from privacy.erasure import erase_customer
from routing import callbacks
from routing.models import ActionTaken, ContextualAction, ScheduledCallBack
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_call_backs_and_offers_move_to_the_survivor_of_a_merge(customer):
    other = CustomerFactory()
    callbacks.schedule_call_back(
        customer=other, slot=timezone.now() + timedelta(hours=1), time_zone="UTC"
    )
    ActionTaken.objects.create(action=ContextualAction.objects.create(name="x"), customer=other)

    survivor = merge_customers(customer, other)

    assert ScheduledCallBack.objects.get().customer == survivor
    assert ActionTaken.objects.get().customer == survivor


def test_an_erased_customer_is_not_called_back(customer):
    call_back = callbacks.schedule_call_back(
        customer=customer, slot=timezone.now() + timedelta(hours=1), time_zone="UTC"
    )

    report = erase_customer(customer)

    call_back.refresh_from_db()
    assert (call_back.status, call_back.next_action_at) == ("cancelled", None)
    assert report.erasure.report["counts"]["call backs cancelled"] == 1
