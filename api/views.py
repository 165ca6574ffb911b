"""The REST API's views (docs/api.md): authenticate, parse, call one verb, answer in JSON.

CSRF protection is off for these views only because they take no cookie: every request
carries an API key instead.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

from commerce.ingest import ingest_events, resolve_customers
from commerce.validation import InvalidEvent, validate_event
from conversations import outbox
from conversations.context import build_context, greeting
from conversations.queries import events_after

from . import ratelimit, references
from .errors import ApiError, invalid
from .keys import authenticate
from .models import ApiKey
from .representations import context_json, event_json
from .schema import OPENAPI

MAX_EVENTS = 500
EVENT_FIELDS = {"event_id", "type", "customer", "payload", "occurred_at"}


def api_view(*methods: str) -> Callable:
    """Method check, API key, rate limit and error answers around a view(request, key, ...)."""

    def decorate(view: Callable) -> Callable:
        @csrf_exempt
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            try:
                if request.method not in methods:
                    raise ApiError(
                        405,
                        "method_not_allowed",
                        f"Use {' or '.join(methods)}.",
                        headers={"Allow": ", ".join(methods)},
                    )
                api_key = authenticate(request)
                if api_key is None:
                    raise ApiError(
                        401,
                        "unauthenticated",
                        "A valid API key is required: send 'Authorization: Bearer <key>'.",
                        headers={"WWW-Authenticate": 'Bearer realm="throughline"'},
                    )
                wait = ratelimit.retry_after(api_key.pk)
                if wait is not None:
                    raise ApiError(
                        429,
                        "rate_limited",
                        f"Too many requests for this key: retry in {wait} s.",
                        headers={"Retry-After": str(wait)},
                    )
                return view(request, api_key, *args, **kwargs)
            except ApiError as error:
                return error.response()

        return wrapped

    return decorate


def json_body(request: HttpRequest) -> dict:
    length = request.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        raise _too_large()
    if request.content_type != "application/json":
        raise ApiError(
            415, "unsupported_media_type", "Send the body as JSON (Content-Type: application/json)."
        )
    try:
        body = json.loads(request.body)
    except RequestDataTooBig:
        raise _too_large() from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "malformed_json", f"The body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise invalid("body", "must be a JSON object.")
    return body


def _too_large() -> ApiError:
    return ApiError(
        413,
        "too_large",
        f"The body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes; "
        "send smaller batches.",
    )


# ---------------------------------------------------------------------------- events


@api_view("POST")
def events(request: HttpRequest, api_key: ApiKey) -> JsonResponse:
    items = json_body(request).get("events")
    if not isinstance(items, list):
        raise invalid("events", "must be a list of events.")
    if not items:
        raise invalid("events", "must hold at least one event.")
    if len(items) > MAX_EVENTS:
        raise ApiError(
            413,
            "too_many_events",
            f"A batch holds at most {MAX_EVENTS} events; this one has {len(items)}.",
            field="events",
        )
    parsed, errors = [], []
    for index, item in enumerate(items):
        try:
            parsed.append(_parse_event(item, f"events[{index}]"))
        except ApiError as error:
            errors.append({"index": index, "field": error.field, "message": error.message})
    if errors:
        first = errors[0]
        raise ApiError(
            400,
            "invalid",
            f"{len(errors)} of {len(items)} events are invalid; nothing was stored. "
            f"First: {first['message']}",
            field=first["field"],
            details=errors,
        )
    found = resolve_customers((r.kind, r.value, r.name) for r, _ in parsed)
    customers = {r: found[(r.kind, r.value)] for r, _ in parsed}
    outcomes = ingest_events([(customers[reference], item) for reference, item in parsed])
    results = [
        {
            "index": index,
            "event_id": item.event_id,
            "status": "duplicate" if outcome.duplicate else "accepted",
            "customer": outcome.event.conversation.customer_id,
            "seq": outcome.event.seq,
        }
        for index, ((_, item), outcome) in enumerate(zip(parsed, outcomes, strict=True))
    ]
    duplicates = sum(outcome.duplicate for outcome in outcomes)
    return JsonResponse(
        {"accepted": len(outcomes) - duplicates, "duplicates": duplicates, "results": results}
    )


def _parse_event(item, where: str):
    if not isinstance(item, dict):
        raise invalid(where, "must be an object.")
    unknown = sorted(set(item) - EVENT_FIELDS)
    if unknown:
        raise invalid(f"{where}.{unknown[0]}", "is not an event field.")
    if "customer" not in item:
        raise invalid(f"{where}.customer", "is required.")
    try:
        event = validate_event(
            event_id=item.get("event_id"),
            type=item.get("type"),
            payload=item.get("payload"),
            occurred_at=item.get("occurred_at"),
        )
    except InvalidEvent as error:
        raise invalid(f"{where}.{error.field}", error.message) from None
    return references.parse_reference(item["customer"], f"{where}.customer"), event


# ---------------------------------------------------------------------------- customers


@api_view("GET")
def customer(request: HttpRequest, api_key: ApiKey, ref: str) -> JsonResponse:
    context = build_context(references.find_in_path(ref))
    return JsonResponse({**context_json(context), "greeting": greeting(context)})


@api_view("GET")
def timeline(request: HttpRequest, api_key: ApiKey, ref: str) -> JsonResponse:
    after = _int_param(request, "after", default=0, low=0, high=2**31 - 1)
    limit = _int_param(request, "limit", default=settings.TIMELINE_PAGE_SIZE, low=1, high=500)
    found = references.find_in_path(ref)
    conversation = found.conversation
    page = events_after(conversation.pk, after, limit=limit + 1)
    has_more = len(page) > limit
    page = page[:limit]
    next_after = page[-1].seq if has_more else None
    return JsonResponse(
        {
            "customer": found.pk,
            "last_seq": conversation.last_seq,
            "events": [event_json(event) for event in page],
            "has_more": has_more,
            "next_after": next_after,
            "next": request.build_absolute_uri(f"{request.path}?after={next_after}&limit={limit}")
            if has_more
            else None,
        }
    )


def _int_param(request: HttpRequest, name: str, *, default: int, low: int, high: int) -> int:
    raw = request.GET.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise invalid(name, f"must be a whole number from {low} to {high}.")
    return int(raw)


# ---------------------------------------------------------------------------- messages


MESSAGE_FIELDS = {"customer", "channel", "body", "to", "media_urls"}


@api_view("POST")
def messages(request: HttpRequest, api_key: ApiKey) -> JsonResponse:
    body = json_body(request)
    unknown = sorted(set(body) - MESSAGE_FIELDS)
    if unknown:
        raise invalid(unknown[0], "is not a message field.")
    if "customer" not in body:
        raise invalid("customer", "is required.")
    reference = references.parse_reference(body["customer"])
    channel = body.get("channel")
    if not isinstance(channel, str) or not channel:
        raise invalid("channel", "is required, e.g. sms.")
    text = body.get("body", "")
    if not isinstance(text, str):
        raise invalid("body", "must be a string.")
    to = body.get("to")
    if to is not None and not isinstance(to, str):
        raise invalid("to", "must be a string.")
    media = body.get("media_urls", [])
    if not isinstance(media, list) or not all(
        isinstance(url, str) and url.startswith("https://") for url in media
    ):
        raise invalid("media_urls", "must be a list of https URLs.")
    found = references.find(reference)
    try:
        event = outbox.send(
            customer=found,
            channel=channel,
            body=text,
            to=to,
            media_urls=media,
            data={"sent_by": "api", "api_key": api_key.prefix},
        )
    except outbox.Refused as refusal:
        raise ApiError(422, "refused", str(refusal)) from None
    return JsonResponse(
        {"customer": event.conversation.customer_id, "event": event_json(event)}, status=202
    )


# ---------------------------------------------------------------------------- schema, docs


def schema(request: HttpRequest) -> JsonResponse:
    """The OpenAPI document (public: it holds no data)."""
    return JsonResponse(OPENAPI, json_dumps_params={"indent": 2})


def docs(request: HttpRequest):
    """The schema as a readable page, rendered here (no CDN, no script)."""
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
        for path, methods_ in OPENAPI["paths"].items()
        for method, operation in methods_.items()
    ]
    schemas = [(name, _pretty(body)) for name, body in OPENAPI["components"]["schemas"].items()]
    return render(
        request,
        "api/docs.html",
        {"info": OPENAPI["info"], "operations": operations, "schemas": schemas},
    )


def _pretty(value) -> str:
    return json.dumps(value, indent=2) if value is not None else ""
