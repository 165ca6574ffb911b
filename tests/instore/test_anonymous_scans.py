"""What an anonymous scan costs, and the per-address limit on the scan call."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from conversations.models import Customer, Event
from conversations.visitors import read_visitor_token
from instore.models import Scan
from tests.instore.factories import PlacementFactory

pytestmark = pytest.mark.django_db


def scan(client, placement, token=None):
    body = json.dumps({"token": token} if token else {})
    return client.post(f"/s/{placement.code}/scan", body, content_type="application/json")


def test_scans_past_the_limit_get_429_while_another_address_is_unaffected(settings):
    settings.ADDRESS_RATE_LIMITS = {**settings.ADDRESS_RATE_LIMITS, "scan": 2}
    placement = PlacementFactory()
    shopper = Client(REMOTE_ADDR="203.0.113.7")

    allowed = [scan(shopper, placement).status_code for _ in range(2)]
    refused = scan(shopper, placement)
    neighbour = scan(Client(REMOTE_ADDR="198.51.100.9"), placement)

    assert allowed == [200, 200]
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert "Too many requests" in refused.json()["error"]
    assert neighbour.status_code == 200
    assert Scan.objects.count() == 3  # the refused one wrote nothing


@pytest.mark.long
def test_300_anonymous_scans_are_300_scan_rows_and_no_customer(settings):
    settings.ADDRESS_RATE_LIMITS = {**settings.ADDRESS_RATE_LIMITS, "scan": 0}  # off here
    placement = PlacementFactory()
    client = Client()

    for _ in range(300):
        assert scan(client, placement).status_code == 200

    assert Scan.objects.count() == 300
    assert (Customer.objects.count(), Event.objects.count()) == (0, 0)


def test_an_anonymous_visitors_repeated_scans_within_minutes_are_one_row(client):
    placement = PlacementFactory()
    start = timezone.now().replace(minute=0, second=1)

    with time_machine.travel(start, tick=False):
        first = scan(client, placement).json()
    with time_machine.travel(start + timedelta(minutes=3), tick=False):
        again = scan(client, placement, first["token"]).json()

    assert read_visitor_token(again["token"]) == read_visitor_token(first["token"])
    assert again["reference"] == first["reference"]
    assert Scan.objects.count() == 1
