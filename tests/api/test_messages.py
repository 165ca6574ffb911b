import pytest

from conversations.models import Event, Identity, Outbox
from tests.factories import CustomerFactory, IdentityFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/messages"


@pytest.fixture
def shopper():
    customer = CustomerFactory()
    IdentityFactory(customer=customer, kind="phone", value="+14155550132")
    IdentityFactory(customer=customer, kind="external", value="shop-42")
    return customer


def test_it_queues_an_sms_through_the_outbox(api, shopper, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():  # delivery is the SMS adapter's business
        response = api.post(
            URL,
            {
                "customer": {"external_id": "shop-42"},
                "channel": "sms",
                "body": "Your order shipped",
            },
            check_request=True,
        )

    assert response.status_code == 202
    body = response.json()
    event = Event.objects.get(pk=body["event"]["id"])
    assert body["customer"] == shopper.pk
    assert (event.channel, event.direction, event.kind) == ("sms", "out", "message")
    assert event.data["sent_by"] == "api"
    assert Outbox.objects.get(event=event).to_address == "+14155550132"


def test_an_opted_out_number_is_refused_with_422(api, shopper):
    Identity.objects.filter(kind="phone").update(opted_out_at="2025-01-01T00:00Z")

    response = api.post(
        URL, {"customer": {"phone": "+14155550132"}, "channel": "sms", "body": "Hi"}
    )

    assert response.status_code == 422
    assert "opted out" in response.json()["error"]["message"]
    assert not Outbox.objects.exists()


def test_an_unknown_channel_is_refused_with_422(api, shopper):
    response = api.post(
        URL, {"customer": {"external_id": "shop-42"}, "channel": "fax", "body": "Hi"}
    )

    assert response.status_code == 422 and response.json()["error"]["code"] == "refused"


def test_an_unknown_customer_is_404_and_nobody_is_created(api):
    response = api.post(
        URL, {"customer": {"phone": "+14155550199"}, "channel": "sms", "body": "Hi"}
    )

    assert response.status_code == 404
    assert not Identity.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"channel": "sms", "body": "Hi"}, "customer"),
        ({"customer": {"external_id": "shop-42"}, "body": "Hi"}, "channel"),
        ({"customer": {"external_id": "shop-42"}, "channel": "sms", "body": 5}, "body"),
        ({"customer": {"external_id": "shop-42"}, "channel": "sms", "body": "x", "cc": 1}, "cc"),
        ({"customer": {"external_id": "shop-42"}, "channel": "sms", "body": "x",
          "media_urls": ["http://insecure.example/a.png"]}, "media_urls"),
    ],
)  # fmt: skip
def test_invalid_fields_are_400(api, shopper, body, field):
    response = api.post(URL, body)

    assert response.status_code == 400 and response.json()["error"]["field"] == field
