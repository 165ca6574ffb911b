"""The API's merges: list a customer's merges, split one (keyed; who asked is recorded)."""

import pytest

from conversations import journal
from conversations.identities import merge_customers
from conversations.models import Customer, Event, Merge
from tests.factories import CustomerFactory, IdentityFactory

pytestmark = pytest.mark.django_db


def merged_pair():
    older, newer = CustomerFactory(), CustomerFactory()
    IdentityFactory(customer=newer, kind="external", value="shop-7")
    journal.record(customer=newer, channel="web", kind="message", direction="in", body="hi")
    merge_customers(older, newer)
    return older, newer, Merge.objects.get()


def test_the_shop_lists_a_customers_merges_and_splits_one(api, api_key):
    older, newer, merge = merged_pair()

    listed = api.get("/api/v1/merges", customer="external:shop-7")

    assert listed.status_code == 200
    assert [m["id"] for m in listed.json()["merges"]] == [merge.pk]
    assert listed.json()["customer"] == older.pk

    split = api.post(f"/api/v1/merges/{merge.pk}/split", {}, check_request=True)

    assert split.status_code == 200
    assert split.json()["unmerged_by"] == f"api:{api_key[0].prefix}"
    assert Customer.objects.get(pk=newer.pk).merged_into_id is None
    assert Event.objects.get(body="hi").conversation.customer_id == newer.pk
    again = api.post(f"/api/v1/merges/{merge.pk}/split", {})
    assert again.status_code == 200 and again.json() == split.json()
    assert Event.objects.filter(kind="split").count() == 2  # one per timeline, once


def test_a_split_without_a_key_is_refused_and_changes_nothing(api):
    _older, newer, merge = merged_pair()

    response = api.post(f"/api/v1/merges/{merge.pk}/split", {}, key="")

    assert response.status_code == 401
    assert Customer.objects.get(pk=newer.pk).merged_into_id is not None


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/api/v1/merges/999999/split", {}, 404),
        ("/api/v1/merges/x/split", {}, 400),
        ("/api/v1/merges/{merge}/split", {"move_events": ["a"]}, 400),
        ("/api/v1/merges/{merge}/split", {"unknown": 1}, 400),
        ("/api/v1/merges/{merge}/split", {"move_events": [1]}, 422),  # not after the merge
    ],
)
def test_a_bad_split_says_what_was_wrong_and_changes_nothing(api, path, body, status):
    _older, newer, merge = merged_pair()

    response = api.post(path.format(merge=merge.pk), body)

    assert response.status_code == status
    assert response.json()["error"]["message"]
    assert Customer.objects.get(pk=newer.pk).merged_into_id is not None
    assert Merge.objects.get().unmerged_at is None
