"""Quiet hours and per-subject caps by the recipient's jurisdiction, decided by the arbiter."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from engagement import arbiter, jurisdictions
from tests.engagement.conftest import decision_events, shopper

pytestmark = pytest.mark.django_db

MIAMI = "+13055550147"  # Florida: 8 a.m.-8 p.m., 3 a day on one subject
NEW_YORK = "+12125550147"  # no rule of its own: the federal 8 a.m.-9 p.m.
PROVIDENCE = "+14015550147"  # Rhode Island: no Sundays, no holidays
HARTFORD = "+12035550147"  # Connecticut: not built in


# Dallas numbers (Texas: noon-9 p.m. on Sunday, 9 a.m.-9 p.m. otherwise) are +1214...


def propose(customer, key="k1", *, topic="cart_reminders", rule="cart_abandoned", **kwargs):
    return arbiter.propose(
        customer, rule=rule, step=1, dedupe_key=key, topic=topic, body="Still thinking?", **kwargs
    )


def at(moment: datetime):
    return time_machine.travel(moment, tick=False)


@pytest.mark.parametrize(
    ("evening", "next_morning"),
    [
        # 1 November 2026: clocks went back at 2 a.m.; 20:30 EST is 01:30 UTC
        (datetime(2026, 11, 2, 1, 30, tzinfo=UTC), datetime(2026, 11, 2, 13, 0, tzinfo=UTC)),
        # 8 March 2026: clocks went forward at 2 a.m.; 20:30 EDT is 00:30 UTC
        (datetime(2026, 3, 9, 0, 30, tzinfo=UTC), datetime(2026, 3, 9, 12, 0, tzinfo=UTC)),
    ],
    ids=["dst-ends", "dst-starts"],
)
def test_a_florida_number_at_half_past_eight_on_a_dst_day_waits_for_eight_next_morning(
    evening, next_morning
):
    florida = shopper(phone=MIAMI)
    new_york = shopper(phone=NEW_YORK)

    with at(evening):
        waiting = propose(florida, "fl")
        federal = propose(new_york, "ny")

    assert waiting.status == "waiting"
    assert waiting.next_action_at == next_morning  # 08:00 local, whatever the offset
    assert waiting.reason == "quiet hours: waits until Mon 08:00 (America/New_York; Florida)"
    (recorded,) = decision_events(florida)
    assert recorded.data["jurisdictions"] == ["US", "US-FL"]
    assert federal.status == "sent"  # 20:30 in New York: inside the federal window


def test_texas_waits_for_noon_on_sunday_and_nine_on_weekdays():
    texans = [shopper(phone=f"+1214555014{n}") for n in range(3)]

    with at(datetime(2026, 3, 15, 16, 0, tzinfo=UTC)):  # Sunday 11:00 CDT
        sunday = propose(texans[0], "sun")
    with at(datetime(2026, 3, 16, 13, 30, tzinfo=UTC)):  # Monday 08:30 CDT
        monday = propose(texans[1], "mon")
    with at(datetime(2026, 3, 22, 1, 30, tzinfo=UTC)):  # Saturday 20:30 CDT
        saturday = propose(texans[2], "sat")

    assert sunday.next_action_at == datetime(2026, 3, 15, 17, 0, tzinfo=UTC)  # noon
    assert monday.next_action_at == datetime(2026, 3, 16, 14, 0, tzinfo=UTC)  # 09:00
    assert sunday.reason.endswith("(America/Chicago; Texas)")
    assert saturday.status == "sent"


def test_rhode_island_skips_its_legal_holidays_and_sundays():
    rhode_islander = shopper(phone=PROVIDENCE)

    with at(datetime(2026, 9, 6, 15, 0, tzinfo=UTC)):  # Sunday 11:00 EDT, then Labor Day
        nudge = propose(rhode_islander)

    assert nudge.next_action_at == datetime(2026, 9, 8, 13, 0, tzinfo=UTC)  # Tuesday 09:00


def test_the_state_in_the_traits_and_the_area_code_both_apply():
    customer = shopper(phone=MIAMI)
    customer.traits = {"address": {"state": "Texas"}}
    customer.save()

    with at(datetime(2026, 3, 15, 15, 0, tzinfo=UTC)):  # Sunday 11:00 in Miami
        nudge = propose(customer)

    assert nudge.status == "waiting"
    assert nudge.next_action_at == datetime(2026, 3, 15, 16, 0, tzinfo=UTC)  # Texas: noon
    assert decision_events(customer)[0].data["jurisdictions"] == ["US", "US-TX", "US-FL"]


def test_a_jurisdiction_added_in_settings_applies(settings):
    settings.ENGAGEMENT_JURISDICTIONS = {
        "US-CT": {"name": "Connecticut", "hours": "mon-sun 09:00-20:00", "subject_cap": "3/24h"}
    }
    customer = shopper(phone=HARTFORD)

    with at(datetime(2026, 3, 10, 12, 30, tzinfo=UTC)):  # Tuesday 08:30 EDT
        nudge = propose(customer)

    assert nudge.next_action_at == datetime(2026, 3, 10, 13, 0, tzinfo=UTC)
    assert nudge.reason.endswith("(America/New_York; Connecticut)")


def test_resolving_a_known_number_costs_no_query(django_assert_num_queries):
    customer = shopper(phone=MIAMI)
    customer.traits = {"state": "fl"}

    with django_assert_num_queries(0):
        regime = jurisdictions.for_recipient(customer, phone=MIAMI)

    assert regime.codes == ["US", "US-FL"] and regime.zone.key == "America/New_York"


def test_the_per_subject_cap_holds_a_fourth_reminder_in_florida_but_not_elsewhere(settings):
    settings.ENGAGEMENT_FREQUENCY_CAPS = []  # the shop's own caps out of the way
    florida, new_york = shopper(phone=MIAMI), shopper(phone=NEW_YORK)
    morning = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)  # Tuesday 10:00 EDT
    decided = {florida.pk: [], new_york.pk: []}

    for hour in range(4):
        with at(morning + timedelta(hours=hour)):
            for customer in (florida, new_york):
                decided[customer.pk].append(propose(customer, f"{customer.pk}:{hour}"))
    with at(morning + timedelta(hours=4)):
        other_subject = propose(florida, "service", topic="service_followups", rule="post_purchase")

    assert [n.status for n in decided[florida.pk]] == ["sent"] * 3 + ["suppressed"]
    assert decided[florida.pk][3].reason == "frequency cap: 3 per 24 h on cart reminders (Florida)"
    assert [n.status for n in decided[new_york.pk]] == ["sent"] * 4
    assert other_subject.status == "sent"


def test_a_day_later_the_florida_cap_has_room_again(settings):
    settings.ENGAGEMENT_FREQUENCY_CAPS = []
    florida = shopper(phone=MIAMI)
    morning = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
    for hour in range(3):
        with at(morning + timedelta(hours=hour)):
            propose(florida, f"k{hour}")

    with at(morning + timedelta(hours=24, minutes=1)):
        next_day = propose(florida, "k9")

    assert next_day.status == "sent"


def test_a_malformed_override_names_the_setting(settings):
    settings.ENGAGEMENT_JURISDICTIONS = {"US-CT": {"hours": "daily 9-5"}}

    with pytest.raises(ValueError, match=r"ENGAGEMENT_JURISDICTIONS\['US-CT'\]: 'daily 9-5'"):
        jurisdictions.table()
