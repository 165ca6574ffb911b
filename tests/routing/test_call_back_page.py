"""The customer's schedule-a-call-back page: signed link, slots within business hours,
CSRF-protected form, clear 4xx pages for bad links and slots."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from conversations import links
from conversations.models import Case, Event
from routing.models import ScheduledCallBack
from tests.instore.factories import StoreFactory

pytestmark = pytest.mark.django_db
NEW_YORK = ZoneInfo("America/New_York")
# Monday 23 November 2026, 10:00 in New York: open 09:00-18:00 on weekdays
MONDAY_MORNING = datetime(2026, 11, 23, 10, 0, tzinfo=NEW_YORK)


@pytest.fixture(autouse=True)
def store(db):
    weekdays = {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
    return StoreFactory(business_hours={**weekdays, "sat": [], "sun": []})


def page_of(customer) -> str:
    return f"/c/{links.token_for(customer, 'callback')}/callback/"


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_it_offers_the_open_days_first_then_a_handful_of_times(client, customer):
    response = client.get(page_of(customer))

    assert response.status_code == 200
    html = response.content.decode()
    assert "When should we call you back?" in html
    assert "Monday to Friday, 9am to 6pm" in html
    # the days with free times, as links; no time to pick yet
    assert 'href="?day=2026-11-23"' in html and 'href="?day=2026-11-27"' in html
    assert "Saturday" not in html and 'type="radio"' not in html

    html = client.get(page_of(customer) + "?day=2026-11-24").content.decode()
    # a handful of Tuesday's times, spread from opening to the last slot before closing
    assert html.count('type="radio"') == 8
    assert 'value="2026-11-24T09:00:00-05:00"' in html
    assert 'value="2026-11-24T17:30:00-05:00"' in html
    assert 'value="2026-11-24T18:00:00-05:00"' not in html
    assert 'value="2026-11-25T09:00:00-05:00"' not in html
    assert 'name="csrfmiddlewaretoken"' in html


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_today_starts_after_the_lead_time(client, customer):
    html = client.get(page_of(customer) + "?day=2026-11-23").content.decode()

    # the first slot is 30 minutes ahead, on the half-hour grid
    assert 'value="2026-11-23T10:30:00-05:00"' in html
    assert 'value="2026-11-23T10:00:00-05:00"' not in html


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_times_are_on_the_customers_clock_with_the_stores_beside(client, customer):
    customer.time_zone = "Europe/London"
    customer.save(update_fields=["time_zone"])

    html = client.get(page_of(customer) + "?day=2026-11-24").content.decode()

    assert "Times are Europe/London time" in html
    # 09:00 in New York is 14:00 in London
    nine = 'value="2026-11-24T09:00:00-05:00" required> 14:00 <small>(09:00 store time)</small>'
    assert nine in html
    client.post(page_of(customer), {"slot": "2026-11-24T09:00:00-05:00"})
    assert ScheduledCallBack.objects.get().time_zone == "America/New_York"  # agents' clock


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_booking_a_slot_stores_the_call_back_and_tells_the_timeline(client, customer):
    response = client.post(page_of(customer), {"slot": "2026-11-24T14:00:00-05:00"})

    assert response.status_code == 200
    assert "Tuesday 24 November at 14:00" in response.content.decode()
    call_back = ScheduledCallBack.objects.get(customer=customer)
    assert call_back.slot_start == datetime(2026, 11, 24, 14, 0, tzinfo=NEW_YORK)
    assert call_back.next_action_at == call_back.slot_start
    assert call_back.status == "scheduled"
    request = Event.objects.get(conversation__customer=customer, kind="message")
    assert request.body == "Please call me back on Tue 24 Nov at 14:00 (America/New_York)."
    assert call_back.case == Case.objects.get(pk=request.case_id)


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_booking_again_replaces_the_waiting_call_back(client, customer):
    client.post(page_of(customer), {"slot": "2026-11-24T14:00:00-05:00"})
    client.post(page_of(customer), {"slot": "2026-11-25T09:30:00-05:00"})

    statuses = dict(ScheduledCallBack.objects.values_list("slot_start__day", "status"))
    assert statuses == {24: "cancelled", 25: "scheduled"}


@time_machine.travel(MONDAY_MORNING, tick=False)
@pytest.mark.parametrize(
    "slot",
    [
        "2026-11-24T20:00:00-05:00",  # after closing
        "2026-11-28T10:00:00-05:00",  # Saturday: closed
        "2026-11-23T09:30:00-05:00",  # already past
        "2026-11-24T14:10:00-05:00",  # not on the grid
        "2026-11-24T14:00:00",  # no time zone
        # well formed, but no real time: Django's parse_datetime raises (was a 500)
        "2026-02-30T14:00:00-05:00",
        "2026-11-24T25:00:00-05:00",
        "2026-11-24T14:00:00+99:00",
        "tomorrow at two",
        "",
    ],
)
def test_a_slot_the_page_did_not_offer_is_refused_with_400(client, customer, slot):
    response = client.post(page_of(customer), {"slot": slot})

    assert response.status_code == 400
    assert "Please choose one of the times below" in response.content.decode()
    assert not ScheduledCallBack.objects.exists()


def test_an_expired_link_answers_410(client, customer):
    with time_machine.travel(MONDAY_MORNING - timedelta(days=31), tick=False):
        url = page_of(customer)

    with time_machine.travel(MONDAY_MORNING, tick=False):
        response = client.get(url)

    assert response.status_code == 410
    assert "This link has expired" in response.content.decode()


def test_a_forged_link_or_one_for_another_page_answers_404(client, customer):
    forged = page_of(customer).replace("/c/", "/c/x")
    other_page = f"/c/{links.token_for(customer, 'preferences')}/callback/"

    for url in (forged, other_page, "/c/not-a-token/callback/"):
        response = client.get(url)
        assert response.status_code == 404
        assert "This link is not valid" in response.content.decode()
    assert client.post(forged, {"slot": "x"}).status_code == 404


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_the_form_needs_its_csrf_token(customer):
    strict = Client(enforce_csrf_checks=True)

    response = strict.post(page_of(customer), {"slot": "2026-11-24T14:00:00-05:00"})

    assert response.status_code == 403
    assert not ScheduledCallBack.objects.exists()
