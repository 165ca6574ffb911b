"""/api/docs/: the generated OpenAPI document as a readable page, rendered here (no CDN,
no script); and the answers for what no operation takes (a wrong method, an unknown path),
in the API's error shape."""

from __future__ import annotations

import json
from functools import wraps

from django.http import HttpRequest
from django.shortcuts import render

from .errors import ApiError


def openapi() -> dict:
    """The OpenAPI document as JSON sees it (ninja keys its responses by int)."""
    from .views import api  # the views import this module's neighbours; import late

    return json.loads(json.dumps(api.get_openapi_schema(path_prefix="/api")))


def page(request: HttpRequest):
    document = openapi()
    schemas = document.get("components", {}).get("schemas", {})
    operations = [
        {
            "method": method.upper(),
            "path": path,
            "operation": operation,
            "request": _pretty(
                operation.get("requestBody", {})
                .get("content", {})
                .get("application/json", {})
                .get("schema")
            ),
            "responses": [
                {
                    "status": status,
                    "description": response["description"],
                    "schema": _pretty(
                        response.get("content", {}).get("application/json", {}).get("schema")
                    ),
                }
                for status, response in operation["responses"].items()
            ],
        }
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]
    return render(
        request,
        "api/docs.html",
        {
            "info": document["info"],
            "operations": operations,
            "schemas": [(name, _pretty(body)) for name, body in schemas.items()],
        },
    )


def _pretty(value) -> str:
    return json.dumps(value, indent=2) if value is not None else ""


def json_405(patterns: list) -> list:
    """ninja's URL patterns, with its plain-text 405 answered as the API's JSON error."""
    for pattern in patterns:
        pattern.callback = _json_405(pattern.callback)
    return patterns


def _json_405(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code != 405:
            return response
        allowed = response["Allow"]
        return ApiError(
            405,
            "method_not_allowed",
            f"Use {' or '.join(allowed.split(', '))}.",
            headers={"Allow": allowed},
        ).response()

    return wrapped


def not_found(request: HttpRequest):
    return ApiError(404, "not_found", "No such API endpoint: see /api/docs/.").response()
