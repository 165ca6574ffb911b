"""A scan carries its customer (issue 17): whoever holds its visitor id, through becoming a
customer, linking, merges, splits (nested too) and erasure."""

from datetime import timedelta

import pytest
from django.utils import timezone

from conversations.identities import link_identity, merge_customers, resolve_customer
from conversations.models import Event, Merge, MergeMove
from conversations.splits import unmerge
from conversations.visitors import become_customer, customer_of, new_visitor_id
from instore.models import Scan
from instore.scans import record_scan
from privacy.erasure import erase_customer
from tests.instore.factories import PlacementFactory

pytestmark = pytest.mark.django_db

EARLIER = timezone.now() - timedelta(hours=3)


def keys() -> dict[str, int | None]:
    return dict(Scan.objects.values_list("visitor_id", "customer_id"))


def assert_scans_follow_their_visitors():
    for visitor_id, customer_id in keys().items():
        holder = customer_of(visitor_id)
        assert (visitor_id, customer_id) == (visitor_id, holder and holder.pk)


def test_an_anonymous_scan_has_no_customer_until_its_visitor_becomes_one():
    placement = PlacementFactory()
    visitor_id = new_visitor_id()
    scan = record_scan(placement=placement, visitor_id=visitor_id, at=EARLIER)
    assert scan.customer_id is None

    customer = become_customer(visitor_id)

    assert Scan.objects.get(pk=scan.pk).customer_id == customer.pk
    later = record_scan(placement=placement, visitor_id=visitor_id)
    assert later.customer_id == customer.pk


def test_a_visitor_linked_to_a_known_customer_brings_its_scans_journalled():
    visitor_id = new_visitor_id()
    scan = record_scan(placement=PlacementFactory(), visitor_id=visitor_id, at=EARLIER)
    shopper = resolve_customer("phone", "+14155550123")

    link_identity(shopper, "visitor", visitor_id)

    assert Scan.objects.get(pk=scan.pk).customer_id == shopper.pk
    assert Event.objects.filter(conversation__customer=shopper, kind="scan").count() == 1


def test_a_merge_moves_the_scans_with_provenance_and_its_split_moves_them_back():
    placement = PlacementFactory()
    older = resolve_customer("visitor", "v-older")
    newer = resolve_customer("visitor", "v-newer")
    mine = record_scan(placement=placement, visitor_id="v-newer", at=EARLIER)
    assert mine.customer_id == newer.pk

    merge_customers(older, newer)

    assert Scan.objects.get(pk=mine.pk).customer_id == older.pk
    merge = Merge.objects.get()
    move = MergeMove.objects.get(merge=merge, table_name="instore_scan")
    assert (move.row_id, move.from_value) == (mine.pk, newer.pk)
    since = record_scan(placement=placement, visitor_id="v-newer")  # after the merge
    assert since.customer_id == older.pk
    assert_scans_follow_their_visitors()

    unmerge(merge, by="test")

    assert Scan.objects.get(pk=mine.pk).customer_id == newer.pk
    # made after the merge, but by the visitor id the split gave back: it goes back too
    assert Scan.objects.get(pk=since.pk).customer_id == newer.pk
    assert_scans_follow_their_visitors()


def test_nested_merges_and_their_splits_in_any_order_keep_scans_with_their_visitors():
    placement = PlacementFactory()
    a, b, c = (resolve_customer("visitor", f"v-{name}") for name in "abc")
    for name in "abc":
        record_scan(placement=placement, visitor_id=f"v-{name}", at=EARLIER)
    merge_customers(a, b)
    merge_customers(c, a)
    assert set(keys().values()) == {a.pk}
    first, second = Merge.objects.order_by("pk")

    unmerge(first, by="test")  # the earlier merge, under the later one
    assert keys() == {"v-a": a.pk, "v-b": b.pk, "v-c": a.pk}
    assert_scans_follow_their_visitors()

    unmerge(second, by="test")
    assert keys() == {"v-a": a.pk, "v-b": b.pk, "v-c": c.pk}
    assert_scans_follow_their_visitors()


def test_erasure_takes_the_customer_off_the_scans():
    customer = resolve_customer("visitor", "v-erased")
    scan = record_scan(placement=PlacementFactory(), visitor_id="v-erased")

    report = erase_customer(customer)

    scan = Scan.objects.get(pk=scan.pk)
    assert (scan.visitor_id, scan.customer_id) == ("erased", None)
    assert report.counts["scans"] == 1


def test_key_scans_keys_what_the_previous_release_recorded_without_a_customer():
    """Scans written during migration 0003 by the release before it carry no customer;
    `manage.py key_scans` gives them their visitor's, once, and leaves anonymous ones."""
    from io import StringIO

    from django.core.management import call_command

    placement = PlacementFactory()
    known, anonymous = new_visitor_id(), new_visitor_id()
    customer = become_customer(known)
    for visitor_id in (known, anonymous):  # as the previous release wrote them
        Scan.objects.create(
            placement=placement, store=placement.store, visitor_id=visitor_id,
            source_id=f"old-{visitor_id}",
        )  # fmt: skip
    out = StringIO()

    call_command("key_scans", stdout=out)

    assert keys() == {known: customer.pk, anonymous: None}
    assert out.getvalue().strip() == "1 scans keyed by customer"
    call_command("key_scans", stdout=out)
    assert out.getvalue().strip().endswith("0 scans keyed by customer")
