"""The REST API's views (docs/api.md): authenticate, parse, call one verb, answer in JSON.

django-ninja reads each request into the types of `bodies.py` (and the query and path
types below) before a view runs, and writes the OpenAPI document from the same types;
`edges.py` answers every refusal in the API's one error shape. The API takes no cookie,
so it needs no CSRF token: every request carries an API key.
"""

from __future__ import annotations

from typing import Annotated

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from ninja import Path, Query
from pydantic import WithJsonSchema

from commerce.fields import AsciiInt
from commerce.ingest import BatchRefused, ingest_batch
from conversations import outbox
from conversations.context import build_context, greeting
from conversations.queries import events_after

from . import answers, edges, references
from .bodies import EventBatch, MessageIn
from .errors import ApiError
from .representations import context_json, event_json

api = edges.ThroughlineApi(
    title="Throughline REST API",
    version="1",
    description="Push product, cart and order events into each customer's one conversation, "
    "read timelines and context, send messages. docs/api.md has the guide: what is accepted "
    "(every field's bounds, the timestamp window) and what each refusal means.",
    urls_namespace="api",
    openapi_url="/schema/",
    docs_url=None,  # our own page (docs below): no CDN, no script
    auth=[edges.BearerKey(), edges.HeaderKey()],
    parser=edges.JsonParser(),
)
edges.install_error_handlers(api)

COMMON = {401: answers.Error, 429: answers.Error}
CUSTOMER_ID = Path(
    description="Our customer id (123), or external:<your id>, email:<address>, "
    "phone:<E.164 number>, URL-encoded. One that names nobody, of whatever form, is a 404.",
)
AFTER = Query(0, description="Events after this seq (ASCII digits).")
# the setting as the process started: the document states it as the default
LIMIT = Query(settings.TIMELINE_PAGE_SIZE, description="How many events (ASCII digits).")
# The pattern is documented, not enforced by the type: find_in_path answers any other id
# with the 404 a customer that does not exist gets.
CustomerId = Annotated[
    str,
    WithJsonSchema(
        {"type": "string", "pattern": r"^(?:[0-9]{1,19}|(?:external|email|phone):[^\u0000]+)$"}
    ),
]


# ---------------------------------------------------------------------------- events


@api.post(
    "/v1/events",
    response={
        200: answers.BatchResult,
        400: answers.Error,
        413: answers.Error,
        415: answers.Error,
        422: answers.Error,
        **COMMON,
    },
    operation_id="ingestEvents",
    summary="Ingest a batch of up to 500 commerce events",
    description="All or nothing on validation: a 400 stores nothing. Safe to retry: a "
    "repeated event_id is reported as a duplicate. 422: valid events that cannot be "
    "taken together (lines adding up to more than the largest amount); nothing is stored.",
)
def events(request: HttpRequest, batch: EventBatch) -> JsonResponse:
    items = batch.events
    checked = edges.commerce_events(items)  # a 422 before anything is written
    references_ = [item.customer.reference for item in items]
    # one transaction, the customers it creates included: all or nothing
    try:
        outcomes = ingest_batch(
            [((r.kind, r.value, r.name), e) for r, e in zip(references_, checked, strict=True)]
        )
    except BatchRefused as error:  # rolled back: e.g. a consent to texts with no phone
        field = f"events[{error.index}].{error.field}"
        raise ApiError(
            422, "unprocessable", f"{field}: {error.message} Nothing was stored.", field=field
        ) from None
    results = [
        {
            "index": index,
            "event_id": item.event_id,
            "status": "duplicate" if outcome.duplicate else "accepted",
            "customer": outcome.event.conversation.customer_id,
            "seq": outcome.event.seq,
        }
        for index, (item, outcome) in enumerate(zip(items, outcomes, strict=True))
    ]
    duplicates = sum(outcome.duplicate for outcome in outcomes)
    # A JsonResponse, not the model: the answer is checked against the document in tests,
    # and re-validating 500 results on every batch would tax the hot path for nothing.
    return JsonResponse(
        {"accepted": len(outcomes) - duplicates, "duplicates": duplicates, "results": results}
    )


# ---------------------------------------------------------------------------- customers


# The timeline first: `{path:id}` would take "42/timeline" as a customer's id.
@api.get(
    "/v1/customers/{path:id}/timeline",
    response={200: answers.Timeline, 400: answers.Error, 404: answers.Error, **COMMON},
    operation_id="getTimeline",
    summary="The customer's timeline, oldest first, by cursor on seq",
    description="Pass next_after as after to read on. seq is gap-free, so after=last_seq-50 "
    "reads the newest 50. A merge renumbers the timeline (a `merge` event appears): read it "
    "again from the start.",
)
def timeline(
    request: HttpRequest,
    id: CustomerId = CUSTOMER_ID,
    after: AsciiInt(0, 2**31 - 1) = AFTER,
    limit: AsciiInt(1, 500) = LIMIT,
) -> JsonResponse:
    found = references.find_in_path(id)
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


@api.get(
    "/v1/customers/{path:id}",
    response={200: answers.Customer, 404: answers.Error, **COMMON},
    operation_id="getCustomer",
    summary="The customer's context: identities, consent, cart, intent, greeting",
)
def customer(request: HttpRequest, id: CustomerId = CUSTOMER_ID) -> JsonResponse:
    context = build_context(references.find_in_path(id))
    return JsonResponse({**context_json(context), "greeting": greeting(context)})


# ---------------------------------------------------------------------------- messages


@api.post(
    "/v1/messages",
    response={
        202: answers.MessageQueued,
        400: answers.Error,
        404: answers.Error,
        413: answers.Error,
        415: answers.Error,
        422: answers.Error,
        **COMMON,
    },
    operation_id="sendMessage",
    summary="Send a message to an existing customer on a channel (sms)",
    description="Queued through the outbox and delivered after the response; delivery "
    "status appears on the event in the timeline. 422: refused (opted out, no address, a "
    "channel with no sender).",
)
def messages(request: HttpRequest, message: MessageIn) -> JsonResponse:
    found = references.find(message.customer.reference)
    try:
        event = outbox.send(
            customer=found,
            channel=message.channel,
            body=message.body,
            to=message.to,
            media_urls=message.media_urls,
            data={"sent_by": "api", "api_key": request.auth.prefix},  # type: ignore[attr-defined]  # set by the auth
        )
    except outbox.Refused as refusal:
        raise ApiError(422, "refused", str(refusal)) from None
    return JsonResponse(
        {"customer": event.conversation.customer_id, "event": event_json(event)}, status=202
    )


# Endpoints kept in modules of their own register on `api` when it is imported.
from . import merges  # noqa: E402, F401
