"""JSON someone sent, read at every edge that takes it: a clear refusal, never a 500.

Python's json module raises RecursionError (not ValueError) on a few thousand nested
brackets, which fit in any body or frame; `base.inputs.read_json` (pydantic's reader, the
API's) refuses them as malformed. The widget's HTTP endpoints, the in-store label's calls
and the widget socket all read through it.
"""

import json

import pytest
from django.test import Client

from base.inputs import read_json
from channels_adapters.webchat.models import Site
from tests.channels_adapters.webchat.conftest import SHOP_ORIGIN, open_widget, visitor
from tests.instore.factories import PlacementFactory
from tests.rows import row_counts

DEEP = "[" * 3000  # 3 KB: within every edge's size limit
DEEPER_THAN_THE_LIMIT = '{"site": "x", "props": ' + "[" * 300 + "]" * 300 + "}"


@pytest.fixture
def site(db):
    return Site.objects.create(name="Stride Fitness", allowed_origins=[SHOP_ORIGIN])


@pytest.mark.parametrize("raw", [DEEP, DEEPER_THAN_THE_LIMIT, "NaN", '"\\ud800"', b"\xff"])
def test_what_python_would_crash_on_or_store_badly_is_not_json(raw):
    with pytest.raises(ValueError, match="not valid JSON"):
        read_json(raw)


def test_json_reads_as_python_would():
    assert read_json(b'{"a": [1, 2.5, null, true], "b": 12345678901234567890123}') == {
        "a": [1, 2.5, None, True],
        "b": 12345678901234567890123,
    }


@pytest.mark.django_db
@pytest.mark.parametrize("body", [DEEP, DEEPER_THAN_THE_LIMIT])
@pytest.mark.parametrize("endpoint", ["session", "track", "identify", "phone/start"])
def test_the_widget_refuses_nested_brackets_with_a_400(site, endpoint, body):
    before = row_counts()
    response = Client(raise_request_exception=False).post(
        f"/widget/{endpoint}", body, content_type="application/json", HTTP_ORIGIN=SHOP_ORIGIN
    )

    assert response.status_code == 400, response.content[:200]
    assert "not valid JSON" in response.json()["error"]
    assert row_counts() == before


@pytest.mark.django_db
@pytest.mark.parametrize("call", ["scan", "consent"])
def test_a_labels_page_calls_refuse_nested_brackets_with_a_400(call):
    placement = PlacementFactory()
    before = row_counts()

    response = Client(raise_request_exception=False).post(
        f"/s/{placement.code}/{call}", DEEP, content_type="application/json"
    )

    assert response.status_code == 400, response.content[:200]
    assert "not valid JSON" in response.json()["error"]
    assert row_counts() == before


@pytest.mark.django_db(transaction=True)
async def test_the_widget_socket_answers_nested_brackets_with_an_error_and_stays_open(site):
    _, token = visitor()
    communicator, _, _ = await open_widget(site, token)

    await communicator.send_to(text_data=DEEP)
    refusal = await communicator.receive_json_from(timeout=5)
    await communicator.send_to(text_data=json.dumps({"type": "bogus"}))
    still_open = await communicator.receive_json_from(timeout=5)

    assert refusal["code"] == "malformed"
    assert "not valid JSON" in refusal["error"]
    assert still_open["type"] == "error"  # the socket still answers
    await communicator.disconnect()
