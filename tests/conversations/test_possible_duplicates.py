"""The possible duplicates queue: found by reaction and sweep, confirmed or dismissed."""

import pytest

from conversations import duplicates, journal
from conversations.models import Customer, PossibleDuplicate
from tests.factories import CustomerFactory, IdentityFactory

pytestmark = pytest.mark.django_db


def says(customer, body):
    return journal.record(
        customer=customer, channel="web", kind="message", direction="in", body=body
    )


def the_pair(a, b) -> PossibleDuplicate:
    first, second = sorted([a.pk, b.pk])
    return PossibleDuplicate.objects.get(first_id=first, second_id=second)


def test_an_email_of_another_customer_written_in_a_case_queues_the_pair():
    known = CustomerFactory()
    IdentityFactory(customer=known, kind="email", value="sam@example.com")
    visitor = CustomerFactory()

    duplicates.on_event(says(visitor, "It's Sam@Example.com, I ordered last week"))

    pair = the_pair(known, visitor)
    assert pair.status == "open"
    assert [e["signal"] for e in pair.evidence] == [duplicates.EMAIL_IN_CASE]
    assert pair.evidence[0]["identity_kind"] == "email"


def test_a_phone_written_differently_queues_the_pair_once():
    known = CustomerFactory()
    IdentityFactory(customer=known, kind="phone", value="+14155550132")
    visitor = CustomerFactory()
    event = says(visitor, "call me on (415) 555-0132 please")

    duplicates.on_event(event)
    duplicates.on_event(event)  # a reaction replayed adds nothing

    pair = the_pair(known, visitor)
    assert [e["signal"] for e in pair.evidence] == [duplicates.PHONE_WRITTEN_DIFFERENTLY]
    assert pair.evidence[0]["written"] is True


def test_ones_own_address_and_unknown_addresses_queue_nothing():
    me = CustomerFactory()
    IdentityFactory(customer=me, kind="email", value="me@example.com")

    duplicates.on_event(says(me, "me@example.com or nobody@example.com, +1 415 555 0199"))

    assert not PossibleDuplicate.objects.exists()


def test_the_sweep_finds_the_same_name_and_postcode_and_unverified_claims():
    a = CustomerFactory(display_name="Sam Lee", traits={"postcode": "sw1a 1aa"})
    b = CustomerFactory(display_name="sam lee ", traits={"postal_code": "SW1A1AA"})
    CustomerFactory(display_name="Sam Lee", traits={"postcode": "E1 6AN"})  # elsewhere
    holder = CustomerFactory(display_name="Jo")
    IdentityFactory(customer=holder, kind="email", value="jo@example.com")
    claimant = CustomerFactory(display_name="J.", traits={"email": "Jo@example.com"})

    assert duplicates.sweep() == 2
    assert duplicates.sweep() == 0  # nothing new the second time

    assert the_pair(a, b).evidence == [{"signal": duplicates.NAME_AND_POSTCODE}]
    claim = the_pair(holder, claimant).evidence[0]
    assert claim["signal"] == duplicates.UNVERIFIED_CLAIM and claim["claimed_by"] == claimant.pk
    assert PossibleDuplicate.objects.count() == 2


def test_a_dismissed_pair_stays_dismissed_whatever_turns_up():
    known = CustomerFactory()
    IdentityFactory(customer=known, kind="email", value="sam@example.com")
    visitor = CustomerFactory()
    duplicates.on_event(says(visitor, "sam@example.com"))
    pair = the_pair(known, visitor)

    duplicates.dismiss(pair, by="console:alice")
    duplicates.on_event(says(visitor, "really, call +1 415 555 0132 or sam@example.com"))

    pair.refresh_from_db()
    assert pair.status == "dismissed" and pair.decided_by == "console:alice"
    assert len(pair.evidence) == 1
    assert list(duplicates.open_pairs()) == []


def test_confirming_a_pair_merges_the_two():
    known = CustomerFactory()
    IdentityFactory(customer=known, kind="email", value="sam@example.com")
    visitor = CustomerFactory()
    duplicates.on_event(says(visitor, "sam@example.com"))

    survivor = duplicates.confirm(the_pair(known, visitor), by="console:alice")

    assert survivor == known
    assert Customer.objects.get(pk=visitor.pk).merged_into == known
    pair = the_pair(known, visitor)
    assert pair.status == "confirmed" and pair.decided_by == "console:alice"
