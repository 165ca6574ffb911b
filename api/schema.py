"""The OpenAPI 3.1 description of the REST API, served at /api/schema/ and /api/docs/.

Written by hand so it says exactly what the views do; tests/api/test_schema.py checks every
response the tests get against it.
"""

from __future__ import annotations

MONEY = {"type": "string", "pattern": r"^\d+\.\d{2}$", "examples": ["1299.00"]}
NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict:
    return _json(_ref("Error"), description)


LINE = {
    "type": "object",
    "required": ["sku", "name", "price"],
    "properties": {
        "sku": {"type": "string", "maxLength": 128},
        "name": {"type": "string", "maxLength": 300},
        "quantity": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 1},
        "price": {
            "type": ["string", "number"],
            "description": "Unit price, at most 2 decimals, not negative.",
        },
    },
}

PAYLOADS = {
    "page_viewed": {
        "type": "object",
        "required": ["url"],
        "properties": {
            "url": {"type": "string"},
            "title": {"type": "string"},
            "referrer": {"type": "string"},
        },
    },
    "product_viewed": {
        "type": "object",
        "required": ["sku", "name"],
        "properties": {
            "sku": {"type": "string", "maxLength": 128},
            "name": {"type": "string", "maxLength": 300},
            "price": {"type": ["string", "number"]},
            "currency": {"type": "string", "description": "ISO 4217; required with a price."},
            "url": {"type": "string"},
            "image": {"type": "string"},
            "needs_assembly": {"type": "boolean"},
        },
    },
    "cart_updated": {
        "type": "object",
        "description": "The whole cart as it is now (a snapshot, not a change).",
        "required": ["currency", "items"],
        "properties": {
            "cart_id": {"type": "string"},
            "currency": {"type": "string"},
            "items": {"type": "array", "maxItems": 200, "items": LINE},
            "value": {
                "type": ["string", "number"],
                "description": "After discounts; the sum of the lines when left out.",
            },
        },
    },
    "checkout_started": {"type": "object", "properties": {"cart_id": {"type": "string"}}},
    "order_placed": {
        "type": "object",
        "required": ["order_id", "currency", "items"],
        "properties": {
            "order_id": {"type": "string", "maxLength": 128},
            "currency": {"type": "string"},
            "items": {"type": "array", "minItems": 1, "maxItems": 200, "items": LINE},
            "total": {"type": ["string", "number"]},
        },
    },
}

SCHEMAS = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {
                        "type": "string",
                        "examples": ["invalid", "unauthenticated", "rate_limited"],
                    },
                    "message": {"type": "string"},
                    "field": {
                        "type": ["string", "null"],
                        "description": "Where: e.g. events[3].payload.items[0].price",
                    },
                    "details": {
                        "type": "array",
                        "description": "One entry per invalid event of a batch.",
                        "items": {
                            "type": "object",
                            "required": ["index", "field", "message"],
                            "properties": {
                                "index": {"type": "integer"},
                                "field": {"type": ["string", "null"]},
                                "message": {"type": "string"},
                            },
                        },
                    },
                },
            }
        },
    },
    "CustomerReference": {
        "type": "object",
        "description": "Exactly one of external_id, email, phone, visitor_token; name is "
        "used when the customer is new.",
        "properties": {
            "external_id": {"type": "string", "description": "Your own customer id."},
            "email": {"type": "string"},
            "phone": {"type": "string", "description": "E.164 preferred: +14155550123"},
            "visitor_token": {"type": "string", "description": "The widget's signed token."},
            "name": {"type": "string", "maxLength": 200},
        },
        "additionalProperties": False,
    },
    "EventIn": {
        "type": "object",
        "required": ["event_id", "type", "customer"],
        "additionalProperties": False,
        "properties": {
            "event_id": {
                "type": "string",
                "maxLength": 128,
                "description": "Unique per event: the same id again is accepted and ignored.",
            },
            "type": {"type": "string", "enum": list(PAYLOADS)},
            "customer": _ref("CustomerReference"),
            "occurred_at": {
                "type": "string",
                "format": "date-time",
                "description": "With a time zone; defaults to when it arrives.",
            },
            "payload": {
                "type": "object",
                "description": "Depends on type: see the PageViewed ... OrderPlaced schemas.",
            },
        },
    },
    **{
        "".join(word.title() for word in name.split("_")): schema
        for name, schema in PAYLOADS.items()
    },
    "EventBatch": {
        "type": "object",
        "required": ["events"],
        "properties": {
            "events": {"type": "array", "minItems": 1, "maxItems": 500, "items": _ref("EventIn")}
        },
    },
    "BatchResult": {
        "type": "object",
        "required": ["accepted", "duplicates", "results"],
        "properties": {
            "accepted": {"type": "integer"},
            "duplicates": {"type": "integer"},
            "results": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["index", "event_id", "status", "customer", "seq"],
                    "properties": {
                        "index": {"type": "integer"},
                        "event_id": {"type": "string"},
                        "status": {"type": "string", "enum": ["accepted", "duplicate"]},
                        "customer": {"type": "integer"},
                        "seq": {"type": "integer"},
                    },
                },
            },
        },
    },
    "Event": {
        "type": "object",
        "required": ["id", "seq", "occurred_at", "channel", "direction", "kind", "body", "data"],
        "properties": {
            "id": {"type": "integer"},
            "seq": {"type": "integer", "description": "Gap-free position in the timeline."},
            "occurred_at": {"type": "string", "format": "date-time"},
            "channel": {
                "type": "string",
                "enum": ["web", "sms", "voice", "instore", "api", "system", "agent"],
            },
            "direction": {"type": "string", "enum": ["in", "out", "internal"]},
            "kind": {"type": "string", "examples": ["message", "page_view", "cart", "order"]},
            "body": {"type": "string"},
            "data": {"type": "object"},
            "delivery_status": {"type": "string"},
            "case": {"type": ["integer", "null"]},
            "source_id": {"type": ["string", "null"]},
        },
    },
    "Timeline": {
        "type": "object",
        "required": ["customer", "last_seq", "events", "has_more", "next_after", "next"],
        "properties": {
            "customer": {"type": "integer"},
            "last_seq": {"type": "integer"},
            "events": {"type": "array", "items": _ref("Event")},
            "has_more": {"type": "boolean"},
            "next_after": {"type": ["integer", "null"]},
            "next": {"type": ["string", "null"]},
        },
    },
    "Cart": {
        "type": "object",
        "required": ["id", "status", "currency", "value", "item_count", "items"],
        "properties": {
            "id": {"type": "integer"},
            "status": {"type": "string", "enum": ["open", "checkout"]},
            "currency": {"type": "string"},
            "value": MONEY,
            "item_count": {"type": "integer"},
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["sku", "name", "quantity", "unit_price"],
                    "properties": {
                        "sku": {"type": "string"},
                        "name": {"type": "string"},
                        "quantity": {"type": "integer"},
                        "unit_price": MONEY,
                    },
                },
            },
            "updated_at": NULLABLE_TIME,
        },
    },
    "Customer": {
        "type": "object",
        "required": ["id", "name", "identities", "consent", "channels_used", "greeting"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"},
            "identities": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["kind", "value", "verified", "opted_out"],
                    "properties": {
                        "kind": {
                            "type": "string",
                            "enum": ["phone", "email", "visitor", "external"],
                        },
                        "value": {"type": "string"},
                        "verified": {"type": "boolean"},
                        "opted_out": {"type": "boolean"},
                    },
                },
            },
            "consent": {"type": "object", "additionalProperties": {"type": "boolean"}},
            "channels_used": {"type": "array", "items": {"type": "string"}},
            "last_channel": {"type": "string"},
            "last_seq": {"type": "integer"},
            "open_case": {
                "oneOf": [
                    {"type": "null"},
                    {
                        "type": "object",
                        "required": ["id", "status"],
                        "properties": {
                            "id": {"type": "integer"},
                            "status": {"type": "string"},
                            "intent": {"type": "string"},
                            "priority": {"type": "integer"},
                            "opened_at": {"type": "string", "format": "date-time"},
                        },
                    },
                ]
            },
            "open_cart": {"oneOf": [{"type": "null"}, _ref("Cart")]},
            "cart_value": {"oneOf": [{"type": "null"}, MONEY]},
            "products_viewed": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["sku", "name", "views", "last_viewed_at"],
                    "properties": {
                        "sku": {"type": "string"},
                        "name": {"type": "string"},
                        "url": {"type": "string"},
                        "views": {"type": "integer"},
                        "last_viewed_at": {"type": "string", "format": "date-time"},
                    },
                },
            },
            "last_order": {
                "oneOf": [
                    {"type": "null"},
                    {
                        "type": "object",
                        "required": ["order_id", "currency", "total", "placed_at"],
                        "properties": {
                            "order_id": {"type": "string"},
                            "currency": {"type": "string"},
                            "total": MONEY,
                            "placed_at": {"type": "string", "format": "date-time"},
                            "delivered_at": NULLABLE_TIME,
                        },
                    },
                ]
            },
            "current_intent": {
                "oneOf": [
                    {"type": "null"},
                    {
                        "type": "object",
                        "required": ["kind"],
                        "properties": {
                            "kind": {"type": "string", "enum": ["evaluating", "cart", "checkout"]}
                        },
                    },
                ]
            },
            "greeting": {
                "type": "string",
                "description": "What the widget would open with for this customer now.",
            },
        },
    },
    "MessageIn": {
        "type": "object",
        "required": ["customer", "channel", "body"],
        "additionalProperties": False,
        "properties": {
            "customer": _ref("CustomerReference"),
            "channel": {"type": "string", "examples": ["sms"]},
            "body": {"type": "string", "maxLength": 1600},
            "to": {"type": "string", "description": "One of the customer's addresses."},
            "media_urls": {"type": "array", "maxItems": 10, "items": {"type": "string"}},
        },
    },
    "MessageQueued": {
        "type": "object",
        "required": ["customer", "event"],
        "properties": {"customer": {"type": "integer"}, "event": _ref("Event")},
    },
}

CUSTOMER_ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "description": "Our customer id (123), or external:<your id>, email:<address>, "
    "phone:<E.164 number>, URL-encoded.",
    "schema": {"type": "string"},
}
COMMON = {
    "401": _error("No valid API key."),
    "429": {
        **_error("Over the rate limit for this key."),
        "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds."}},
    },
}

OPENAPI = {
    "openapi": "3.1.0",
    "info": {
        "title": "Throughline REST API",
        "version": "1",
        "description": "Push product, cart and order events into each customer's one "
        "conversation, read timelines and context, send messages. docs/api.md has the guide.",
    },
    "security": [{"bearer": []}, {"apiKeyHeader": []}],
    "paths": {
        "/api/v1/events": {
            "post": {
                "operationId": "ingestEvents",
                "summary": "Ingest a batch of up to 500 commerce events",
                "description": "All or nothing on validation: a 400 stores nothing. "
                "Safe to retry: a repeated event_id is reported as a duplicate.",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("EventBatch")}},
                },
                "responses": {
                    "200": _json(_ref("BatchResult"), "Stored (or recognised as duplicates)."),
                    "400": _error("Malformed JSON or an invalid event; nothing was stored."),
                    "413": _error("More than 500 events, or a body that is too large."),
                    "415": _error("The body is not JSON."),
                    **COMMON,
                },
            }
        },
        "/api/v1/customers/{id}": {
            "get": {
                "operationId": "getCustomer",
                "summary": "The customer's context: identities, consent, cart, intent, greeting",
                "parameters": [CUSTOMER_ID],
                "responses": {
                    "200": _json(_ref("Customer"), "The context now."),
                    "400": _error("A malformed id."),
                    "404": _error("No such customer."),
                    **COMMON,
                },
            }
        },
        "/api/v1/customers/{id}/timeline": {
            "get": {
                "operationId": "getTimeline",
                "summary": "The customer's timeline, oldest first, by cursor on seq",
                "description": "Pass next_after as after to read on. seq is gap-free, so "
                "after=last_seq-50 reads the newest 50. A merge renumbers the timeline "
                "(a `merge` event appears): read it again from the start.",
                "parameters": [
                    CUSTOMER_ID,
                    {
                        "name": "after",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 0, "default": 0},
                    },
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50},
                    },
                ],
                "responses": {
                    "200": _json(_ref("Timeline"), "One page."),
                    "400": _error("A bad after or limit."),
                    "404": _error("No such customer."),
                    **COMMON,
                },
            }
        },
        "/api/v1/messages": {
            "post": {
                "operationId": "sendMessage",
                "summary": "Send a message to an existing customer on a channel (sms)",
                "description": "Queued through the outbox and delivered after the response; "
                "delivery status appears on the event in the timeline.",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("MessageIn")}},
                },
                "responses": {
                    "202": _json(_ref("MessageQueued"), "Queued for delivery."),
                    "400": _error("An invalid field."),
                    "404": _error("No customer has this identity."),
                    "415": _error("The body is not JSON."),
                    "422": _error("Refused: opted out, no address, unknown channel..."),
                    **COMMON,
                },
            }
        },
    },
    "components": {
        "schemas": SCHEMAS,
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "apiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
        },
    },
}
