"""Unmerge: a merge followed by its split gives back both customers row for row."""

from datetime import timedelta

import pytest
from django.utils import timezone

from commerce.models import Cart, Order, ProductInterest
from conversations import journal
from conversations.identities import merge_customers
from conversations.merges import NotSplittable
from conversations.models import (
    Case,
    Conversation,
    Customer,
    Event,
    Identity,
    Merge,
    MergeMove,
)
from conversations.splits import unmerge
from engagement.models import Watch
from instore.models import Scan
from instore.scans import record_scan
from privacy.models import Preference
from tests.commerce.helpers import BIKE, T900, cart, order, view
from tests.factories import CustomerFactory, IdentityFactory
from tests.instore.factories import PlacementFactory

pytestmark = pytest.mark.django_db

T0 = timezone.now() - timedelta(days=3)
MARKERS = ("merge", "split")  # the two events a merge and its split add
# what the merge and split events move on a conversation's summary (checked separately)
SUMMARY_OF_MARKERS = {"last_seq", "last_event_at"}


def at(customer, minutes, body, **kwargs):
    fields = {"channel": "web", "kind": "message", "direction": "in"} | kwargs
    return journal.record(
        customer=customer, body=body, occurred_at=T0 + timedelta(minutes=minutes), **fields
    )


def columns(row) -> dict:
    """Every column of a row, as stored (ids and foreign keys included)."""
    return {f.attname: getattr(row, f.attname) for f in row._meta.concrete_fields}


def rows(customer_id: int) -> dict:
    """Everything a customer holds, column by column, without the merge and split events."""
    customer = Customer.objects.get(pk=customer_id)
    conversation = Conversation.objects.get(customer_id=customer_id)
    summary = columns(conversation)
    for name in SUMMARY_OF_MARKERS:
        del summary[name]
    events = conversation.events.exclude(kind__in=MARKERS).order_by("seq")
    return {
        "customer": columns(customer),
        "identities": [
            columns(i) for i in Identity.objects.filter(customer=customer).order_by("pk")
        ],
        "conversation": summary,
        "cases": [
            columns(c) for c in Case.objects.filter(conversation=conversation).order_by("pk")
        ],
        "events": [columns(e) for e in events],
        "carts": [columns(c) for c in Cart.objects.filter(customer=customer).order_by("pk")],
        "orders": [columns(o) for o in Order.objects.filter(customer=customer).order_by("pk")],
        "interest": [
            columns(p) for p in ProductInterest.objects.filter(customer=customer).order_by("pk")
        ],
        "preferences": [
            columns(p) for p in Preference.objects.filter(customer=customer).order_by("pk")
        ],
        "watches": [columns(w) for w in Watch.objects.filter(customer=customer).order_by("pk")],
        "scans": [columns(s) for s in Scan.objects.filter(customer=customer).order_by("pk")],
    }


def seqs(customer) -> list[int]:
    return list(
        Event.objects.filter(conversation__customer=customer)
        .order_by("seq")
        .values_list("seq", flat=True)
    )


def two_histories(tag: str = ""):
    """Two customers with interleaved timelines, open cases, carts, orders, interest in the
    same product, preferences, traits; the older one's timeline out of time order."""
    older = CustomerFactory(display_name="", traits={"tier": "gold"})
    newer = CustomerFactory(display_name="Sam", traits={"tier": "silver", "size": "M"})
    IdentityFactory(customer=older, kind="visitor", value=f"v-1{tag}")
    IdentityFactory(customer=newer, kind="phone", value=f"+1415555013{tag or 2}")
    for minute in (0, 20, 40):
        at(older, minute, f"web {minute}")
    for minute in (10, 30, 50):
        at(newer, minute, f"sms {minute}", channel="sms", source_id=f"SM{minute}{tag}")
    at(older, 5, "late web 5")  # recorded last, happened early: a merge reorders it
    now = timezone.now()
    cart(older, f"c-1{tag}", [T900], occurred_at=now - timedelta(hours=1))
    cart(newer, f"c-2{tag}", [BIKE], occurred_at=now)
    order(newer, f"o-1{tag}", order_id=f"1001{tag}")
    view(older, f"v-1{tag}")
    view(newer, f"v-2{tag}")
    view(newer, f"v-3{tag}", sku="B200", name="B200 bike")
    Preference.objects.create(customer=newer, topic="offers", channel="sms", allowed=False)
    Preference.objects.create(customer=newer, topic="offers", channel="web", allowed=False)
    Preference.objects.create(customer=newer, topic="cart_reminders", channel="web", allowed=True)
    Preference.objects.create(customer=older, topic="offers", channel="sms", allowed=True)
    Watch.objects.create(customer=newer, rule="cart-reminder", subject=f"cart:1{tag}")
    IdentityFactory(customer=newer, kind="visitor", value=f"v-2{tag}")
    placement = PlacementFactory()
    for visitor_id in (f"v-1{tag}", f"v-2{tag}"):  # a scan each, keyed by its customer
        record_scan(placement=placement, visitor_id=visitor_id, at=now - timedelta(hours=2))
    return older, newer


def test_merge_then_unmerge_gives_back_both_customers_row_for_row():
    older, newer = two_histories()
    before = {older.pk: rows(older.pk), newer.pk: rows(newer.pk)}

    survivor = merge_customers(newer, older)
    assert survivor == older
    assert rows(newer.pk)["events"] == []  # the merge did move everything
    merge = Merge.objects.get()
    assert MergeMove.objects.filter(merge=merge, table_name="conversations_event").exists()

    split = unmerge(merge, by="test")

    assert split == newer
    for customer in (older, newer):
        now = rows(customer.pk)
        for section, found in now.items():  # section by section: a failure says which
            assert (section, found) == (section, before[customer.pk][section])
    # each timeline is gap-free and records the merge and the split
    assert seqs(older) == list(range(1, len(before[older.pk]["events"]) + 3))
    assert seqs(newer) == list(range(1, len(before[newer.pk]["events"]) + 2))
    kinds = Event.objects.filter(conversation__customer=older).order_by("seq")
    assert list(kinds.values_list("kind", flat=True))[-2:] == ["merge", "split"]
    assert Event.objects.filter(conversation__customer=newer, kind="split").count() == 1
    for customer in (older, newer):
        conversation = Conversation.objects.get(customer=customer)
        assert conversation.last_seq == len(seqs(customer))
    merge.refresh_from_db()
    assert merge.unmerged_by == "test" and merge.unmerged_at is not None


def test_events_after_the_merge_stay_with_the_survivor_unless_listed():
    older, newer = two_histories()
    before = rows(newer.pk)
    merge_customers(older, newer)
    merge = Merge.objects.get()
    stays = at(older, 60, "after the merge: stays")
    goes = at(older, 70, "after the merge: goes")

    unmerge(merge, by="test", move_events=[goes.pk])

    assert Event.objects.get(pk=stays.pk).conversation.customer == older
    moved = Event.objects.get(pk=goes.pk)
    own = len(before["events"])
    assert moved.conversation.customer == newer and moved.seq == own + 1  # after its own
    assert seqs(older) == list(range(1, len(seqs(older)) + 1))
    assert seqs(newer) == list(range(1, own + 3))  # its own, the moved one, the split


def test_only_events_recorded_after_the_merge_can_be_listed():
    older, newer = two_histories()
    own = Event.objects.filter(conversation__customer=older).first()
    merge_customers(older, newer)

    with pytest.raises(NotSplittable):
        unmerge(Merge.objects.get(), by="test", move_events=[own.pk])

    assert Merge.objects.get().unmerged_at is None  # nothing half done
    assert Customer.objects.get(pk=newer.pk).merged_into_id == older.pk


def test_a_repeated_unmerge_changes_nothing():
    older, newer = two_histories()
    merge_customers(older, newer)
    merge = Merge.objects.get()
    unmerge(merge, by="first")
    after = {older.pk: rows(older.pk), newer.pk: rows(newer.pk)}

    unmerge(merge, by="second")

    assert rows(older.pk) == after[older.pk] and rows(newer.pk) == after[newer.pk]
    assert Event.objects.filter(kind="split").count() == 2  # one on each timeline, once
    assert Merge.objects.get().unmerged_by == "first"


def test_nested_merges_split_in_any_order():
    a, b = two_histories()
    c = CustomerFactory()
    at(c, 15, "c 15")
    at(c, 25, "c 25")
    before = {x.pk: rows(x.pk) for x in (a, b, c)}
    merge_customers(a, b)
    merge_customers(c, a)
    first, second = Merge.objects.order_by("pk")

    unmerge(first, by="test")  # the earlier merge, under the later one

    assert rows(b.pk) == before[b.pk]
    assert Event.objects.filter(conversation__customer=c).count() == 0
    assert seqs(a) == list(range(1, len(seqs(a)) + 1))
    assert Event.objects.filter(conversation__customer=a, body="c 25").exists()

    unmerge(second, by="test")

    assert rows(c.pk) == before[c.pk]
    assert rows(b.pk) == before[b.pk]
    a_now = rows(a.pk)
    # a's own rows are all back; its timeline's order is kept (a later merge renumbered it)
    assert sorted(e["id"] for e in a_now["events"]) == sorted(
        e["id"] for e in before[a.pk]["events"]
    )
    assert a_now["carts"] == before[a.pk]["carts"]
    assert seqs(a) == list(range(1, len(seqs(a)) + 1))


def test_a_survivor_merged_into_another_gives_back_the_first_merge_from_there():
    z = CustomerFactory()  # the oldest: it survives whatever it is merged with
    a, b = two_histories()
    at(z, 1, "z 1")
    before_b = rows(b.pk)
    merge_customers(a, b)
    merge_customers(z, a)  # z is older: a's history, b's with it, moves into z's

    unmerge(Merge.objects.get(survivor=a), by="test")

    assert rows(b.pk) == before_b
    assert Customer.objects.get(pk=a.pk).merged_into_id == z.pk
    assert seqs(z) == list(range(1, len(seqs(z)) + 1))
    assert not Event.objects.filter(conversation__customer=z, body__startswith="sms").exists()


def test_a_merge_after_a_split_is_a_new_merge_and_splits_again():
    older, newer = two_histories()
    before = rows(newer.pk)
    merge_customers(older, newer)
    unmerge(Merge.objects.get(), by="test")

    merge_customers(older, newer)
    again = Merge.objects.get(unmerged_at=None)
    unmerge(again, by="test")

    assert rows(newer.pk)["events"] == before["events"]
    assert rows(newer.pk)["carts"] == before["carts"]
    assert Customer.objects.get(pk=newer.pk).merged_into_id is None


@pytest.mark.django_db(transaction=True)
def test_concurrent_unmerge_and_merge_on_the_same_pair_end_consistent(concurrently):
    for round_ in range(3):
        older, newer = two_histories(tag=str(round_ + 3))
        merge_customers(older, newer)
        merge = Merge.objects.get(unmerged_at=None, survivor=older)

        def job(kind, merge=merge, older=older, newer=newer):
            if kind == "unmerge":
                return unmerge(merge, by="thread").pk
            return merge_customers(newer, older).pk

        concurrently(job, [("unmerge",), ("merge",), ("unmerge",), ("merge",)])

        newer.refresh_from_db()
        live = Merge.objects.filter(merged=newer, unmerged_at=None)
        # either merged (by exactly one live merge) or split apart: never in between
        if newer.merged_into_id is None:
            assert not live.exists()
            assert Conversation.objects.get(customer=newer).status != Conversation.Status.MERGED
            assert Identity.objects.filter(customer=newer).exists()
        else:
            assert live.count() == 1
            assert Conversation.objects.get(customer=newer).status == Conversation.Status.MERGED
            assert not Event.objects.filter(conversation__customer=newer).exists()
            assert not Identity.objects.filter(customer=newer).exists()
        for customer in (older, newer):
            assert seqs(customer) == list(range(1, len(seqs(customer)) + 1))
            conversation = Conversation.objects.get(customer=customer)
            assert conversation.last_seq == len(seqs(customer))
        assert Cart.objects.filter(status__in=Cart.ACTIVE).count() >= 1


def test_erasing_a_customer_erases_what_their_merges_kept_of_them(agent):
    from privacy.erasure import erase_customer

    older, newer = two_histories()
    merge_customers(older, newer)

    erase_customer(older, by=agent)

    merge = Merge.objects.get()
    assert "merged" not in merge.before and "survivor" not in merge.before
    assert "Sam" not in str(merge.before)


@pytest.mark.django_db(transaction=True)
def test_a_split_tells_both_conversations_sockets_to_resync(broadcasts):
    older, newer = CustomerFactory(), CustomerFactory()
    at(newer, 1, "newer")
    merge_customers(older, newer)
    broadcasts.collect(0.3)  # the merge's own messages

    unmerge(Merge.objects.get(), by="test")

    resyncs = {
        group: message
        for group, message in broadcasts.collect()
        if message["type"] == "conversation.resync"
    }
    for customer in (older, newer):
        conversation = Conversation.objects.get(customer=customer).pk
        assert resyncs[f"conv.{conversation}"]["moved_to"] == conversation


def test_messages_after_the_merge_on_the_merged_customers_case_keep_a_case_of_their_own():
    older, newer = CustomerFactory(), CustomerFactory()
    at(older, 0, "a page view", kind="page_view")  # no case: the newer one's carries on
    at(newer, 1, "a question")
    merge_customers(older, newer)
    later = at(older, 60, "asked after the merge")
    carried = later.case
    assert carried.conversation.customer == older

    unmerge(Merge.objects.get(), by="test")

    later.refresh_from_db()
    carried.refresh_from_db()
    assert carried.conversation.customer == newer  # the case went back with its customer
    assert later.case.conversation.customer == older and later.case.status == "open"
    conversation = Conversation.objects.get(customer=older)
    assert conversation.current_case == later.case and conversation.status == "open"
    assert Conversation.objects.get(customer=newer).current_case == carried
