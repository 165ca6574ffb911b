"""The admin: placements made by staff, the print-ready label sheet, scan statistics."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from conversations.visitors import new_visitor_id
from instore.models import WEEKDAYS, Placement, Scan, Store
from instore.queries import with_scan_stats
from instore.scans import link_reference, record_scan
from tests.instore.factories import PlacementFactory, ProductFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("admin", password="pw-admin")
    client.force_login(user)
    client.user = user
    return client


def labels_url(paper, **ids):
    query = "&".join(f"{key}={pk}" for key, values in ids.items() for pk in values)
    return f"{reverse('admin:instore_store_labels')}?paper={paper}&{query}"


def codes_on(html: str) -> list[str]:
    return re.findall(r'class="label" data-code="([^"]+)"', html)


@pytest.mark.parametrize(
    ("paper", "page_size"), [("a4", "A4 portrait"), ("letter", "letter portrait")]
)
def test_the_print_action_renders_every_active_placement_of_the_store(
    admin_client, paper, page_size
):
    # given a store with 14 active placements (two sheets), one inactive, and another store
    store = StoreFactory()
    active = [PlacementFactory(store=store, label=f"aisle {n}") for n in range(14)]
    PlacementFactory(store=store, active=False)
    PlacementFactory(store=StoreFactory(name="Uptown"))

    # when the action runs on the store
    action = admin_client.post(
        reverse("admin:instore_store_changelist"),
        {"action": f"print_labels_{paper}", "_selected_action": [store.pk]},
    )
    sheet = admin_client.get(action["Location"])

    # then the sheet holds exactly the active placements, on 3 x 4 pages of the paper asked
    assert action.status_code == 302
    html = sheet.content.decode()
    assert sorted(codes_on(html)) == sorted(p.code for p in active)
    assert f"@page {{ size: {page_size};" in html
    assert html.count('<section class="sheet"') == 2
    assert html.count("<svg") == 14
    assert html.count("T900 Folding Treadmill") == 14
    assert html.count("$1,299.00") == 14
    assert "aisle 13" in html
    assert f"shop.example.com/s/{active[0].code}/" in html


def test_placements_can_be_printed_one_by_one(admin_client):
    one, _ = PlacementFactory.create_batch(2)

    action = admin_client.post(
        reverse("admin:instore_placement_changelist"),
        {"action": "print_labels_letter", "_selected_action": [one.pk]},
    )

    assert codes_on(admin_client.get(action["Location"]).content.decode()) == [one.code]


def test_the_sheet_is_for_staff_only(client, outsider):
    client.force_login(outsider)

    response = client.get(labels_url("a4", store=[StoreFactory().pk]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_a_placement_added_in_the_admin_records_who_made_it_and_gets_a_code(admin_client):
    store, product = StoreFactory(), ProductFactory()

    response = admin_client.post(
        reverse("admin:instore_placement_add"),
        {"store": store.pk, "product": product.pk, "label": "window", "active": "on"},
    )

    assert response.status_code == 302
    placement = Placement.objects.get()
    assert placement.created_by == admin_client.user
    assert re.fullmatch(r"[23456789abcdefghjkmnpqrstuvwxyz]{10}", placement.code)
    page = admin_client.get(reverse("admin:instore_placement_change", args=[placement.pk]))
    assert reverse("instore:qr-svg", args=[placement.code]) in page.content.decode()


def test_a_store_checks_its_number_zone_and_hours(admin_client):
    response = admin_client.post(
        reverse("admin:instore_store_add"),
        {
            "name": "Downtown",
            "time_zone": "Mars/Olympus",
            "phone": "415 555 0100",
            "business_hours_0": "nine to six",
            "placements-TOTAL_FORMS": "0",
            "placements-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 200  # the form again, with its errors
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"time_zone", "phone", "business_hours"}
    assert "Monday: 'nine to six' is not like 09:00-18:00." in errors["business_hours"]
    assert not Store.objects.exists()


def store_form(**days):
    return {
        "name": "Downtown",
        "time_zone": "America/New_York",
        "phone": "",
        **{f"business_hours_{n}": days.get(day, "") for n, day in enumerate(WEEKDAYS)},
        "placements-TOTAL_FORMS": "0",
        "placements-INITIAL_FORMS": "0",
    }


def test_business_hours_are_edited_one_line_per_day(admin_client):
    response = admin_client.post(
        reverse("admin:instore_store_add"),
        store_form(mon="9-12:30, 13:30-18", sat="10:00-16:00"),
    )

    assert response.status_code == 302
    store = Store.objects.get()
    assert store.business_hours == {
        "mon": [["09:00", "12:30"], ["13:30", "18:00"]],
        "tue": [],
        "wed": [],
        "thu": [],
        "fri": [],
        "sat": [["10:00", "16:00"]],
        "sun": [],
    }
    page = admin_client.get(reverse("admin:instore_store_change", args=[store.pk]))
    html = page.content.decode()
    assert 'value="09:00-12:30, 13:30-18:00"' in html and ">Saturday</label>" in html


def test_hours_that_close_before_they_open_are_refused(admin_client):
    response = admin_client.post(reverse("admin:instore_store_add"), store_form(tue="18-09"))

    assert response.status_code == 200
    assert "business_hours" in response.context["adminform"].form.errors
    assert not Store.objects.exists()


def test_no_hours_at_all_stores_none(admin_client):
    admin_client.post(reverse("admin:instore_store_add"), store_form())
    assert Store.objects.get().business_hours == {}


def scans(placement, visitors, *, days_ago=0):
    made = []
    for visitor_id in visitors:
        at = timezone.now() - timedelta(days=days_ago)
        made.append(record_scan(placement=placement, visitor_id=visitor_id, at=at))
    return made


def test_scan_statistics_per_placement_and_store():
    # given two placements in Downtown and one in Uptown
    downtown = StoreFactory()
    treadmill = PlacementFactory(store=downtown)
    bike = PlacementFactory(store=downtown, product=ProductFactory(sku="B300", name="Bike"))
    uptown = PlacementFactory(store=StoreFactory(name="Uptown"))
    alice, bob = new_visitor_id(), new_visitor_id()
    # alice scans the treadmill twice at once (one scan) and again last month; bob once
    scans(treadmill, [alice, alice, bob])
    scans(treadmill, [alice], days_ago=30)
    [bike_scan] = scans(bike, [bob])
    link_reference(reference=bike_scan.reference, phone="+14155550123")

    placements = {p.pk: p for p in with_scan_stats(Placement.objects.all())}
    stores = {s.pk: s for s in with_scan_stats(Store.objects.all())}

    def stats(obj):
        return (obj.scan_total, obj.scan_recent, obj.scan_visitors, obj.scan_texted)

    assert stats(placements[treadmill.pk]) == (3, 2, 2, 0)
    assert stats(placements[bike.pk]) == (1, 1, 1, 1)
    assert stats(placements[uptown.pk]) == (0, 0, 0, 0)
    assert stats(stores[downtown.pk]) == (4, 3, 2, 1)
    assert stores[downtown.pk].scan_last == Scan.objects.latest("scanned_at").scanned_at


def test_the_changelists_show_the_statistics(admin_client):
    placement = PlacementFactory()
    PlacementFactory.create_batch(2, store=placement.store)
    PlacementFactory(store=placement.store, active=False)
    scans(placement, [new_visitor_id(), new_visitor_id()])

    stores = admin_client.get(reverse("admin:instore_store_changelist"))
    placements = admin_client.get(reverse("admin:instore_placement_changelist"))

    for page in (stores, placements):
        assert page.status_code == 200
        row = max(page.context["cl"].result_list, key=lambda r: r.scan_total)
        assert (row.scan_total, row.scan_visitors) == (2, 2)
        assert "last 7 days" in page.content.decode().lower()
    store_row = stores.context["cl"].result_list[0]
    assert store_row.active_placement_count == 3
