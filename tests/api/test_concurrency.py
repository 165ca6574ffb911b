"""The same batch sent by 20 clients at once: one journal event, one cart (real threads)."""

import pytest
from django.test import Client

from commerce.models import Cart, CartItem
from conversations.models import Event
from tests.api.helpers import event

pytestmark = pytest.mark.django_db(transaction=True)


def test_twenty_concurrent_requests_with_one_event_id_store_it_once(api_key, concurrently):
    body = {"events": [event("c-1", "cart_updated"), event("p-1", "page_viewed")]}

    def send():
        response = Client().post(
            "/api/v1/events",
            body,
            content_type="application/json",
            headers={"Authorization": f"Bearer {api_key[1]}"},
        )
        return response.status_code, response.json()

    answers = concurrently(send, [()] * 20)

    assert {status for status, _ in answers} == {200}
    assert sorted(body["accepted"] for _, body in answers) == [0] * 19 + [2]
    assert Event.objects.filter(source_id__in=["c-1", "p-1"]).count() == 2
    assert Cart.objects.count() == 1 and CartItem.objects.count() == 1
    assert len({tuple(r["seq"] for r in body["results"]) for _, body in answers}) == 1
