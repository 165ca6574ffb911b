"""Every figure against the hand-built journeys (tests/insights/journeys.py)."""

from datetime import timedelta

import pytest

from conversations.identities import merge_customers, resolve_customer
from conversations.models import Event, Team
from engagement.models import Nudge
from insights import figures
from insights.filters import Filters
from instore.scans import record_scan
from tests.insights import journeys
from tests.insights.journeys import T0
from tests.instore.factories import PlacementFactory

pytestmark = pytest.mark.django_db

PERIOD = Filters(start=T0 - timedelta(days=1), end=T0 + timedelta(days=1))


@pytest.fixture
def cases(agent):
    return journeys.build(agent)


def test_true_fcr_counts_every_channel_and_the_naive_one_does_not(cases):
    rows = {row[0]: row[1:] for row in figures.first_contact_resolution(PERIOD).rows}
    # A: chat then phone = 2 contacts; B: web then SMS = 2; C: 1; D: 2 on SMS
    assert rows["all channels (true)"] == (4, 1, 25.0)
    assert rows["web (naive)"] == (2, 2, 100.0)
    assert rows["voice (naive)"] == (1, 1, 100.0)
    assert rows["sms (naive)"] == (3, 2, 66.7)


def test_contacts_and_time_to_resolution_by_intent_and_resolving_channel(cases):
    rows = {(r[0], r[1]): r[2:] for r in figures.contacts_per_resolution(PERIOD).rows}
    assert rows == {
        ("delivery", "voice"): (1, 2.0, 2.0, 2.0),
        ("delivery", "sms"): (1, 2.0, 1.0, 1.0),
        ("returns", "sms"): (2, 1.5, 3.5, 3.5),
    }


def test_a_switch_within_a_case_is_counted_once(cases):
    assert figures.channel_switching(PERIOD).rows == [("web", "sms", 1), ("web", "voice", 1)]


def test_preferred_channels_by_first_contact_and_reply_rate(cases):
    rows = {r[0]: r[1:] for r in figures.preferred_channels(PERIOD).rows}
    assert rows["web"] == (3, 0, 0, 0.0)
    assert rows["sms"] == (2, 3, 1, 33.3)  # only D answered one of our three texts


def test_response_times_by_team_and_channel_with_percentiles(cases):
    rows = {(r[0], r[1]): r[2:] for r in figures.response_times(PERIOD).rows}
    assert rows[("Support", "web")] == (2, 15.0, 15.0, 1.5, 1.9)
    assert rows[("Sales", "sms")] == (2, 20.0, 28.0, 3.5, 3.9)
    assert rows[("(no team)", "web")] == (1, None, None, None, None)


def test_filters_narrow_every_case_figure(cases):
    sales = Team.objects.get(slug="sales")
    narrowed = Filters(start=PERIOD.start, end=PERIOD.end, team=sales.pk)
    assert figures.first_contact_resolution(narrowed).rows[0] == ("all channels (true)", 2, 1, 50.0)
    by_intent = Filters(start=PERIOD.start, end=PERIOD.end, intent="delivery")
    assert figures.first_contact_resolution(by_intent).rows[0][1:] == (2, 0, 0.0)
    on_voice = Filters(start=PERIOD.start, end=PERIOD.end, channel="voice")
    assert figures.channel_switching(on_voice).rows == [("web", "voice", 1)]
    later = Filters(start=T0 + timedelta(hours=1), end=T0 + timedelta(days=1))
    assert figures.first_contact_resolution(later).rows == [("all channels (true)", 0, 0, 0.0)]


def test_journeys_before_an_order_and_before_a_hot_case():
    journeys.build_shopping()
    assert figures.journeys(PERIOD, before="order").rows == [
        ("web visit → cart → nudge → sms message → order", 2),
        ("web visit → order", 1),
    ]
    assert figures.journeys(PERIOD, before="hot").rows == [("voice call → hot case", 1)]


def test_nudges_per_rule_with_suppressions_and_what_followed():
    people = journeys.build_shopping()
    f, g = people["F"], people["G"]
    delivered = Event.objects.filter(conversation=f.conversation, kind="cart").first()
    Event.objects.filter(pk=delivered.pk).update(delivery_status="delivered")
    made = dict(topic="cart_reminders", body="Your cart", due_at=T0, proposed_at=T0)
    Nudge.objects.create(customer=f, rule="cart", dedupe_key="1", status="sent", channel="sms",
                         message=delivered, replied_at=T0, ordered_at=T0, **made)  # fmt: skip
    Nudge.objects.create(customer=g, rule="cart", dedupe_key="2", status="sent", channel="sms",
                         opted_out_at=T0, **made)  # fmt: skip
    Nudge.objects.create(customer=g, rule="cart", dedupe_key="3", status="suppressed",
                         reason="sms: preference: offers off by sms; web: no widget visitor",
                         **made)  # fmt: skip
    Nudge.objects.create(customer=f, rule="offer", dedupe_key="4", status="suppressed",
                         reason="hot case: an agent handles this customer now", **made)  # fmt: skip
    assert figures.nudges(PERIOD).rows == [
        ("cart", 3, 1, 2, 1, 1, 1, 1),
        ("offer", 1, 1, 0, 0, 0, 0, 0),
    ]
    assert figures.nudge_suppressions(PERIOD).rows == [
        ("cart", "preference", 1),
        ("offer", "hot case", 1),
    ]


def test_scans_per_placement_and_those_joined_to_an_online_history():
    people = journeys.build_shopping()
    placement = PlacementFactory()
    journeys.link_visitor(people["F"], "v_online")  # F has a web history
    record_scan(placement=placement, visitor_id="v_online", at=T0)
    record_scan(placement=placement, visitor_id="v_walk_in", at=T0)
    assert figures.in_store(PERIOD).rows == [
        ("Downtown", "aisle 4, end cap", "T900 Folding Treadmill", 2, 1, 50.0)
    ]


def test_a_scan_counts_as_joined_once_its_visitor_is_linked_or_merged_into_a_history():
    people = journeys.build_shopping()
    placement = PlacementFactory()
    record_scan(placement=placement, visitor_id="v_later", at=T0)  # anonymous then
    record_scan(placement=placement, visitor_id="v_walk_in", at=T0)
    walk_in = resolve_customer("visitor", "v_walk_in")
    assert figures.in_store(PERIOD).rows[0][3:] == (2, 0, 0.0)

    journeys.link_visitor(people["F"], "v_later")  # F has a web history
    merge_customers(walk_in, people["G"])  # so has G

    assert figures.in_store(PERIOD).rows[0][3:] == (2, 2, 100.0)
