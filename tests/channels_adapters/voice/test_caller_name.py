"""The call's CallerName names a customer who has no better name (conversations/names.py)."""

import pytest

from conversations.models import Identity
from tests.channels_adapters.voice.conftest import CALLER, call_sid, the_call
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_a_new_callers_network_name_names_her(voice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        voice.call(call_sid(1), CallerName="WHITFIELD,DANA")

    assert the_call().data["caller_name"] == "WHITFIELD,DANA"
    customer = Identity.objects.get(value=CALLER).customer
    assert (customer.display_name, customer.name_source) == ("Dana Whitfield", "call")


def test_a_placeholder_or_a_known_name_is_kept(voice, django_capture_on_commit_callbacks):
    customer = CustomerFactory(display_name="Dana Scully")
    Identity.objects.create(customer=customer, kind="phone", value=CALLER)
    with django_capture_on_commit_callbacks(execute=True):
        voice.call(call_sid(1), CallerName="SCULLY,D")
        voice.call(call_sid(2), CallerName="WIRELESS CALLER")

    customer.refresh_from_db()
    assert customer.display_name == "Dana Scully"


def test_a_call_without_a_caller_name_records_none(voice):
    voice.call(call_sid(1))
    assert "caller_name" not in the_call().data
