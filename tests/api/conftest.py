"""API test helpers: a key, and a client whose every answer is checked against the schema."""

from __future__ import annotations

import json
import uuid

import pytest
from openapi_core import OpenAPI
from openapi_core.contrib.django import DjangoOpenAPIRequest, DjangoOpenAPIResponse

from api.docs import openapi
from api.keys import create_api_key

SPEC = OpenAPI.from_dict(openapi())


@pytest.fixture(autouse=True)
def own_rate_limit_counters(settings):
    # Counters live in the shared Redis: each test counts under its own prefix.
    settings.API_RATE_LIMIT_PREFIX = f"test-ratelimit-{uuid.uuid4().hex}"


class ApiClient:
    """Django's test client with a key; checks responses (and, when asked, requests)."""

    def __init__(self, client, key: str):
        self.client, self.key = client, key

    def _check(self, response, *, check_request: bool):
        request = DjangoOpenAPIRequest(response.wsgi_request)
        if check_request:
            SPEC.validate_request(request)
        SPEC.validate_response(request, DjangoOpenAPIResponse(response))
        return response

    def post(self, path, body, *, key=None, check_request=False, raw=False, **headers):
        data = body if raw else json.dumps(body)
        response = self.client.post(
            path,
            data,
            content_type=headers.pop("content_type", "application/json"),
            headers=self._headers(key, headers),
        )
        return self._check(response, check_request=check_request)

    def get(self, path, *, key=None, **params):
        response = self.client.get(path, params, headers=self._headers(key, {}))
        return self._check(response, check_request=False)

    def _headers(self, key, extra):
        key = self.key if key is None else key
        return {**({"Authorization": f"Bearer {key}"} if key else {}), **extra}


@pytest.fixture
def api_key(db):
    return create_api_key(name="Test shop")


@pytest.fixture
def api(client, api_key):
    return ApiClient(client, api_key[1])
