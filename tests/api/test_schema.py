import pytest
from openapi_core import OpenAPI
from openapi_core.exceptions import OpenAPIError
from openapi_spec_validator import validate

from api.schema import OPENAPI

pytestmark = pytest.mark.django_db


def test_the_schema_is_valid_openapi_and_served_as_json(client):
    validate(OPENAPI)

    response = client.get("/api/schema/")

    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response.json()["paths"].keys() == OPENAPI["paths"].keys()


def test_the_docs_page_lists_every_operation(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    page = response.content.decode()
    for path in OPENAPI["paths"]:
        assert path in page
    assert "<script" not in page and "https://" not in page.split("<main>")[0]


def test_the_response_check_catches_a_response_that_breaks_the_schema(api):
    """The check every API test runs is not a rubber stamp."""
    from openapi_core.contrib.django import DjangoOpenAPIRequest, DjangoOpenAPIResponse

    from tests.api.helpers import event

    response = api.client.post(
        "/api/v1/events",
        {"events": [event()]},
        content_type="application/json",
        headers={"Authorization": f"Bearer {api.key}"},
    )
    response.content = response.content.replace(b'"accepted"', b'"taken"')
    spec = OpenAPI.from_dict(OPENAPI)

    with pytest.raises(OpenAPIError):
        spec.validate_response(
            DjangoOpenAPIRequest(response.wsgi_request), DjangoOpenAPIResponse(response)
        )
