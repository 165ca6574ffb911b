import pytest
from openapi_core import OpenAPI
from openapi_core.exceptions import OpenAPIError
from openapi_spec_validator import validate

from api.docs import openapi

pytestmark = pytest.mark.django_db

PATHS = {
    "/api/v1/events",
    "/api/v1/customers/{id}",
    "/api/v1/customers/{id}/timeline",
    "/api/v1/messages",
    "/api/v1/merges",
    "/api/v1/merges/{merge_id}/split",
}


def test_the_generated_schema_is_valid_openapi_and_served_as_json(client):
    document = openapi()
    validate(document)

    response = client.get("/api/schema/")

    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response.json()["paths"].keys() == document["paths"].keys() == PATHS


def test_the_schema_states_the_bounds_the_types_enforce(client):
    schemas = client.get("/api/schema/").json()["components"]["schemas"]

    line = schemas["Line"]["properties"]
    assert line["sku"]["maxLength"] == 128 and line["quantity"]["maximum"] == 10_000
    assert "multipleOf" in line["price"]["anyOf"][1]
    assert schemas["EventBatch"]["properties"]["events"]["maxItems"] == 500
    assert schemas["PageViewedIn"]["additionalProperties"] is False
    occurred_at = schemas["PageViewedIn"]["properties"]["occurred_at"]["anyOf"][0]
    assert occurred_at["format"] == "date-time" and "2000-01-01" in occurred_at["description"]


def test_the_docs_page_lists_every_operation(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    page = response.content.decode()
    for path in PATHS:
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
    spec = OpenAPI.from_dict(openapi())

    with pytest.raises(OpenAPIError):
        spec.validate_response(
            DjangoOpenAPIRequest(response.wsgi_request), DjangoOpenAPIResponse(response)
        )
