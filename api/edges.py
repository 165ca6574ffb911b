"""The API's edge around django-ninja: the key, the body, and every refusal in one shape.

- `BearerKey` / `HeaderKey`: the API key (`Authorization: Bearer` or `X-Api-Key`), then
  the key's rate limit (docs/api.md, "Rate limits").
- `JsonParser`: the body must be `application/json` (415) within
  DATA_UPLOAD_MAX_MEMORY_SIZE (413); it is parsed by pydantic's JSON reader, which
  refuses what Python's would crash on or store badly: nesting deeper than its limit
  (Python's raises RecursionError), lone surrogates, NaN and Infinity.
- `install_error_handlers`: pydantic's errors become the API's 400 naming each field
  (`errors.ApiError`), and so do ninja's own refusals.
"""

from __future__ import annotations

import re

import pydantic_core
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError, ValidationErrorContext
from ninja.parser import Parser
from ninja.security import APIKeyHeader, HttpBearer

from commerce.fields import problems
from commerce.validation import KINDS, CommerceEvent, InvalidEvent

from . import ratelimit
from .bodies import MAX_EVENTS
from .errors import ApiError, invalid
from .keys import authenticate_raw
from .models import ApiKey

_EVENT_INDEX = re.compile(r"events\[([0-9]+)\]")
_TAGS = frozenset(KINDS)


# ---------------------------------------------------------------------------- the key


def _checked(request: HttpRequest, raw: str | None) -> ApiKey | None:
    api_key = authenticate_raw(raw or "")
    if api_key is None:
        return None
    wait = ratelimit.retry_after(api_key.pk)
    if wait is not None:
        raise ApiError(
            429,
            "rate_limited",
            f"Too many requests for this key: retry in {wait} s.",
            headers={"Retry-After": str(wait)},
        )
    return api_key


class BearerKey(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        return _checked(request, token)


class HeaderKey(APIKeyHeader):
    param_name = "X-Api-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> ApiKey | None:
        return _checked(request, key)


# ---------------------------------------------------------------------------- the body


class JsonParser(Parser):
    def parse_body(self, request: HttpRequest):
        if request.content_type != "application/json":
            raise ApiError(
                415,
                "unsupported_media_type",
                "Send the body as JSON (Content-Type: application/json).",
            )
        try:
            body = pydantic_core.from_json(request.body, allow_inf_nan=False)
        except ValueError as exc:
            why = str(exc)
            if "surrogate" in why or "hex escape" in why:  # jiter's words for "\ud800"
                why = f"a \\u escape is no whole character (a lone surrogate), {why}"
            raise ApiError(400, "malformed_json", f"The body is not valid JSON: {why}") from None
        request.json_body = body  # type: ignore[attr-defined]  # a refusal counts its events
        return body


def too_large() -> ApiError:
    return ApiError(
        413,
        "too_large",
        f"The body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes; "
        "send smaller batches.",
    )


# ---------------------------------------------------------------------------- refusals


class Invalid(ValidationError):
    """ninja's ValidationError, keeping pydantic's errors (ninja flattens them to dicts)."""

    def __init__(self, contexts: list[ValidationErrorContext]):
        super().__init__([])
        self.contexts = contexts


class ThroughlineApi(NinjaAPI):
    def validation_error_from_error_contexts(self, error_contexts):
        return Invalid(error_contexts)


def refusal(request: HttpRequest, error: Invalid) -> ApiError:
    """The API's 400 (or 413) for a request its types refused."""
    found: list[tuple[str, str]] = []
    for context in error.contexts:
        # A body is read into one parameter (its name comes first in locations); query
        # and path parameters are named by themselves.
        skip = 1 if context.model.__ninja_param_source__ == "body" else 0
        pydantic_error = context.pydantic_validation_error
        for problem in pydantic_error.errors(include_url=False, include_input=False):
            loc = problem["loc"][skip:]
            if loc == ("events",) and problem["type"] == "too_long":
                count = problem.get("ctx", {}).get("actual_length", "more")
                return ApiError(
                    413,
                    "too_many_events",
                    f"A batch holds at most {MAX_EVENTS} events; this one has {count}.",
                    field="events",
                )
        found += problems(pydantic_error, skip=skip, noun="a message", tags=_TAGS)
    per_event: dict[int, tuple[str, str]] = {}
    for field, message in found:
        index = _EVENT_INDEX.match(field)
        if index is not None:
            per_event.setdefault(int(index.group(1)), (field, message))
    if not per_event:
        return invalid(*found[0])
    details = [
        {"index": index, "field": field, "message": f"{field}: {message}"}
        for index, (field, message) in sorted(per_event.items())
    ]
    body = getattr(request, "json_body", None)
    count = len(body["events"]) if isinstance(body, dict) else "the"
    first = details[0]
    return ApiError(
        400,
        "invalid",
        f"{len(details)} of {count} events are invalid; nothing was stored. "
        f"First: {first['message']}",
        field=first["field"],
        details=details,
    )


def commerce_events(items: list) -> list[CommerceEvent]:
    """The batch's events for `commerce.ingest`; a 422 naming every event whose lines add
    up to more than an amount can hold (no single field is wrong: a 400 would say one is)."""
    found, wrong = [], []
    for index, item in enumerate(items):
        try:
            found.append(item.commerce_event())
        except InvalidEvent as error:
            field = f"events[{index}].{error.field}"
            wrong.append({"index": index, "field": field, "message": f"{field}: {error.message}"})
    if wrong:
        raise ApiError(
            422,
            "unprocessable",
            f"{len(wrong)} of {len(items)} events cannot be taken; nothing was stored. "
            f"First: {wrong[0]['message']}",
            field=wrong[0]["field"],
            details=wrong,
        )
    return found


def install_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(ApiError)
    def api_error(request, error: ApiError):
        return error.response()

    @api.exception_handler(Invalid)
    def invalid_request(request, error: Invalid):
        return refusal(request, error).response()

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request, error):
        return ApiError(
            401,
            "unauthenticated",
            "A valid API key is required: send 'Authorization: Bearer <key>'.",
            headers={"WWW-Authenticate": 'Bearer realm="throughline"'},
        ).response()

    @api.exception_handler(RequestDataTooBig)
    def body_too_large(request, error):
        return too_large().response()

    @api.exception_handler(HttpError)
    def http_error(request, error: HttpError):
        # ninja wraps what the parser raises ("Cannot parse request body"): ours says more
        if isinstance(error.__cause__, ApiError):
            return error.__cause__.response()
        if isinstance(error.__cause__, RequestDataTooBig):
            return too_large().response()
        return ApiError(error.status_code, "invalid", str(error)).response()
