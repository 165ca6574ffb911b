"""The one read engagement's reaction starts with (engagement/outstanding.py): a follow-up
that changes nothing costs that read alone, and the read never skips what a verb would do."""

from datetime import timedelta

import pytest

from commerce.models import Product
from conversations.identities import live_customer
from conversations.models import Customer, Identity
from engagement import hooks
from engagement.models import RuleConfig
from engagement.outstanding import outstanding
from engagement.rules import after_hours
from instore.models import Placement, Scan, Store
from tests.engagement.conftest import SHOP_NUMBER, nudges, shopper

pytestmark = pytest.mark.django_db

WEEKDAYS = {d: [["09:00", "18:00"]] for d in ["mon", "tue", "wed", "thu", "fri"]}


def _store(name: str, *, phone: str = "", hours: dict | None = None) -> Store:
    return Store.objects.create(
        name=name, time_zone="America/Los_Angeles", phone=phone, business_hours=hours or {}
    )


def _read(event):
    return outstanding(event, field="replied_at", stop=("evaluation_left",), answerable=True)


def test_a_follow_up_that_changes_nothing_costs_one_read(
    clock, dana, text_us, django_assert_num_queries
):
    _store("Downtown", phone=SHOP_NUMBER, hours=WEEKDAYS)  # open: 10:00 on a Tuesday
    text_us("Do you have the T900 in stock?")
    follow_up = text_us("And in blue?")

    with django_assert_num_queries(1):
        hooks.on_event(follow_up)


def test_a_follow_up_in_a_closed_period_already_acknowledged_costs_one_read(
    clock, dana, text_us, django_assert_num_queries
):
    _store("Downtown", phone=SHOP_NUMBER, hours=WEEKDAYS)
    clock.at(timedelta(hours=12))  # 22:00 on Tuesday in San Francisco: closed
    text_us("Anyone there?")
    follow_up = text_us("Hello?")

    with django_assert_num_queries(1):
        hooks.on_event(follow_up)

    assert len(nudges(rule="after_hours")) == 1


def test_a_disabled_after_hours_rule_is_not_asked(clock, dana, text_us):
    _store("Downtown", phone=SHOP_NUMBER, hours=WEEKDAYS)
    after_hours.RULE.config()
    RuleConfig.objects.filter(slug="after_hours").update(enabled=False)
    clock.at(timedelta(hours=12))

    found = _read(text_us("Anyone there?"))

    assert found is not None and not found.may_acknowledge
    assert not nudges(rule="after_hours")


def test_an_unmade_rule_config_is_left_to_the_rule(clock, dana, text_us):
    event = text_us("Anyone there?")
    RuleConfig.objects.filter(slug="after_hours").delete()

    assert _read(event).may_acknowledge  # the rule makes its config with its defaults


@pytest.mark.parametrize("where", ["number", "scan", "only store with hours", "none"])
def test_the_read_picks_the_store_the_after_hours_rule_picks(clock, text_us, where):
    # given: a customer with a visitor id who scanned a code in one store
    customer = shopper(visitor=True)
    with_hours = _store("With hours", hours=WEEKDAYS)
    scanned = _store("Scanned", phone="+14155550777")
    texted = _store("Texted", phone=SHOP_NUMBER)
    if where != "only store with hours":
        _store("Also with hours", hours=WEEKDAYS)
    if where in ("number", "scan"):
        product = Product.objects.create(sku="T900", name="T900 treadmill")
        placement = Placement.objects.create(store=scanned, product=product, label="aisle 4")
        visitor = Identity.objects.get(customer=customer, kind="visitor").value
        Scan.objects.create(
            placement=placement,
            store=scanned,
            visitor_id=visitor,
            customer=customer,  # as record_scan keys it
            source_id="s1",
        )
    to = SHOP_NUMBER if where == "number" else "+14155559999"  # an unknown number

    # when
    event = text_us("Hi", to=to)

    # then
    expected = after_hours._store_for(event, live_customer(Customer(pk=customer.pk)))
    assert _read(event).store_id == (expected.pk if expected else None)
    assert {
        "number": texted,
        "scan": scanned,
        "only store with hours": with_hours,
        "none": None,
    }[where] == expected
