"""The landing page `/s/<code>/`: what a shopper sees, and that looking writes nothing."""

import pytest
from django.urls import reverse

from conversations.models import Customer, Event, Identity
from instore.models import Scan
from tests.instore.factories import PlacementFactory, StoreFactory

pytestmark = pytest.mark.django_db


def nothing_written():
    return (Customer.objects.count(), Identity.objects.count(), Event.objects.count()) == (
        0,
        0,
        0,
    ) and not Scan.objects.exists()


def test_an_active_code_shows_the_product_the_store_and_three_ways_to_continue(client):
    placement = PlacementFactory(label="aisle 4, end cap")

    response = client.get(f"/s/{placement.code}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "T900 Folding Treadmill" in html
    assert "$1,299.00" in html
    assert "Downtown" in html
    assert "aisle 4, end cap" in html
    assert 'id="instore-chat"' in html
    assert 'href="sms:+14155550100?&amp;body=Hi%21%20I%27m%20at%20Downtown%20looking' in html
    assert 'href="tel:+14155550100"' in html
    assert 'name="viewport"' in html  # made for phones
    assert response["Cache-Control"] == "private, no-cache"


def test_looking_at_the_page_writes_nothing(client):
    placement = PlacementFactory()

    client.get(f"/s/{placement.code}/")

    assert nothing_written()  # the page's script records the scan (test_scan.py)


def test_a_code_typed_in_capitals_still_works(client):
    placement = PlacementFactory()

    assert client.get(f"/s/{placement.code.upper()}/").status_code == 200


@pytest.mark.parametrize(
    "code",
    [
        "inactive",
        "k7m2x9q4ab",  # well-formed, unknown
        "k7m2x9q4a",  # one character short
        "k7m2x9q4a0",  # a character codes never use
        "'; drop table--",
    ],
)
def test_unknown_inactive_and_mistyped_codes_get_the_same_friendly_404_and_write_nothing(
    client, code
):
    inactive = PlacementFactory(active=False)
    code = inactive.code if code == "inactive" else code

    page = client.get(f"/s/{code}/")
    scan = client.post(f"/s/{code}/scan", "{}", content_type="application/json")

    assert page.status_code == 404
    assert "We couldn't find this code" in page.content.decode()
    assert "T900" not in page.content.decode()  # nothing about what the code was
    assert scan.status_code == 404
    assert nothing_written()


def test_a_store_without_a_number_offers_chat_only(client):
    placement = PlacementFactory(store=StoreFactory(phone=""))

    html = client.get(f"/s/{placement.code}/").content.decode()

    assert "sms:" not in html
    assert "tel:" not in html
    assert 'id="instore-chat"' in html


def test_the_page_is_the_same_for_every_shopper_and_names_nobody(client):
    placement = PlacementFactory()
    scanned = client.post(f"/s/{placement.code}/scan", "{}", content_type="application/json")

    later = client.get(reverse("instore:landing", args=[placement.code])).content.decode()

    reference = scanned.json()["reference"]
    assert reference not in later
    assert scanned.json()["token"] not in later
