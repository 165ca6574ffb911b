"""The widget's HTTP side: the script, its JSON endpoints, and the demo shop.

The JSON endpoints are called from the shop's pages, cross-origin: each answers the CORS
preflight, checks the page's `Origin` against the site's allowed origins, and (apart
from `session`, which hands them out) wants a signed visitor token. Those two checks are
why the endpoints are CSRF-exempt: there is no cookie to ride on, and a forged page
cannot present an allowed origin.

Each endpoint also counts against its client address's limit (ADDRESS_RATE_LIMITS,
base.limits) before anything is read, and `session` writes nothing: an
anonymous visitor is a signed token until they write (docs/widget.md).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict
from functools import cache, wraps
from importlib import import_module
from pathlib import Path

import jwt
from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.module_loading import import_string
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import etag, require_GET

from base import limits
from base.inputs import read_json, unstorable_in
from conversations import consent, links
from conversations.context import build_context
from conversations.models import Customer
from conversations.visitors import (
    InvalidVisitorToken,
    issue_visitor_token,
    new_visitor_id,
    read_visitor_token,
)

from . import demo, history, inbound
from .identify import IdentifyError, identify_visitor
from .models import Site
from .origins import origin_allowed
from .phone import (
    VerificationError,
    confirm_phone_verification,
    sms_reach,
    start_phone_verification,
)

MAX_REQUEST_BYTES = 16 * 1024
WIDGET_JS = Path(__file__).resolve().parent / "static" / "webchat" / "widget.js"


# ---------------------------------------------------------------------------- the script


@cache
def _built_widget() -> tuple[bytes, str]:
    source = WIDGET_JS.read_bytes()
    return source, hashlib.sha256(source).hexdigest()[:16]


def _widget() -> tuple[bytes, str]:
    """The script and its ETag: read once per process, or on every request while DEBUG."""
    if settings.DEBUG:
        _built_widget.cache_clear()
    return _built_widget()


@require_GET
@etag(lambda request: _widget()[1])
def widget_js(request):
    response = HttpResponse(_widget()[0], content_type="text/javascript; charset=utf-8")
    # The script tag's URL never changes, so keep caches short and let them revalidate
    # (the ETag makes that a 304): a shop gets a new widget within five minutes.
    response["Cache-Control"] = "public, max-age=300"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"  # shops with COEP may load it
    return response


# ---------------------------------------------------------------------------- JSON endpoints


class WidgetRequest:
    """A checked widget call: the site, the JSON body and, when sent, the visitor."""

    def __init__(self, site: Site, data: dict, visitor_id: str | None):
        self.site, self.data, self.visitor_id = site, data, visitor_id


def _error(status: int, message: str, *, field: str = "", origin: str = "") -> JsonResponse:
    response = JsonResponse(
        {"error": message, **({"field": field} if field else {})}, status=status
    )
    if origin:
        _allow(response, origin)
    return response


def _allow(response, origin: str) -> None:
    response["Access-Control-Allow-Origin"] = origin
    response["Vary"] = "Origin"


def widget_endpoint(bucket: str, *, needs_visitor: bool = True):
    """Parse and check a widget call, then call the view with a WidgetRequest. The call
    counts against its address's limit for `bucket` first (429 past it)."""

    def decorate(view):
        @csrf_exempt
        @wraps(view)
        def wrapper(request):
            origin = request.headers.get("Origin", "")
            if request.method == "OPTIONS":
                # The preflight carries no body (no site key): the real call is checked.
                response = HttpResponse(status=204)
                if origin:
                    _allow(response, origin)
                response["Access-Control-Allow-Methods"] = "POST"
                response["Access-Control-Allow-Headers"] = "Content-Type"
                response["Access-Control-Max-Age"] = "600"
                return response
            if request.method != "POST":
                return _error(405, "Use POST.")
            wait = limits.address_retry_after(bucket, limits.request_address(request))
            if wait is not None:
                response = limits.too_many_requests(wait)
                if origin:  # readable by the widget, which shows the message
                    _allow(response, origin)
                    response["Access-Control-Expose-Headers"] = "Retry-After"
                return response
            if len(request.body) > MAX_REQUEST_BYTES:
                return _error(413, f"The request may be at most {MAX_REQUEST_BYTES} bytes.")
            try:
                data = read_json(request.body or b"{}")
            except ValueError as exc:
                return _error(400, f"The body is {exc}.")
            if not isinstance(data, dict):
                return _error(400, "The body must be a JSON object.")
            if found := unstorable_in(data):
                where, problem = found
                return _error(400, f"{where} {problem}.", field=where, origin=origin)
            site_key = data.get("site")
            site = (
                Site.objects.filter(public_key=site_key).first()
                if isinstance(site_key, str) and site_key
                else None
            )
            if site is None:
                return _error(404, "Unknown site key.", field="site")
            if not origin_allowed(site, origin, own_host=request.get_host()):
                return _error(403, "This page's origin may not use this site's widget.")
            visitor_id = None
            if data.get("token"):
                try:
                    visitor_id = read_visitor_token(data["token"])
                except InvalidVisitorToken as exc:
                    return _error(403, str(exc), field="token", origin=origin)
            elif needs_visitor:
                return _error(403, "A visitor token is required.", field="token", origin=origin)
            response = view(request, WidgetRequest(site, data, visitor_id))
            _allow(response, origin)
            return response

        return wrapper

    return decorate


_CONTEXT_DEFAULT = getattr(
    import_module("conversations.context"), "DEFAULT_GREETING", "Hi! How can we help you today?"
)


def greeting_for(site: Site, customer: Customer | None) -> str:
    """The customer context's greeting (an open cart, a product being evaluated), or the
    site's default when the context has nothing to say (or there is no customer yet)."""
    if customer is None:
        return site.default_greeting or settings.WIDGET_DEFAULT_GREETING
    try:
        greeting = import_string("conversations.context.greeting")
    except ImportError:
        greeting = None
    text = greeting(build_context(customer)) if greeting is not None else ""
    # The context's greeting falls back to the platform-wide default; a site's own wins.
    if text in ("", getattr(settings, "WIDGET_DEFAULT_GREETING", ""), _CONTEXT_DEFAULT):
        return site.default_greeting or text
    return text


def socket_url(request) -> str:
    base = settings.WEBSOCKET_BASE_URL
    if not base:
        base = ("wss://" if request.is_secure() else "ws://") + request.get_host()
    return f"{base}/ws/widget/"


def _state(request, call: WidgetRequest, visitor_id: str, *, after_seq: int = 0) -> dict:
    """The visitor's whole state. An anonymous visitor has no conversation yet: an empty
    history, the site's greeting and no preference page (nothing to set preferences on)."""
    customer = inbound.known_customer(visitor_id)
    if customer is None:
        messages, cursor, reset = [], 0, True
    else:
        messages, cursor, reset = history.visible_history(
            customer.conversation.pk, after_seq=after_seq
        )
    return {
        "token": issue_visitor_token(visitor_id),
        "messages": [history.widget_payload(m, visitor_id=visitor_id) for m in messages],
        "cursor": cursor,
        "reset": reset or after_seq == 0,
        "greeting": greeting_for(call.site, customer),
        "socket_url": socket_url(request),
        "site": {"name": call.site.name},
        # the shopper's preference page (docs/privacy.md): a signed link, no personal data
        "preferences_url": links.url_for(customer, "preferences") if customer else None,
        # the words beside "Continue by SMS"'s unticked box, sent back with a ticked one
        "sms_disclosure": asdict(consent.sms_disclosure(call.site.name)),
        # "Continue by SMS" only for a shopper we cannot text yet (phone.sms_reach)
        "sms": sms_reach(customer),
    }


@widget_endpoint("session", needs_visitor=False)
def session(request, call: WidgetRequest):
    """A visitor token (new, or the one sent back), history after `after_seq`, the greeting.
    Writes nothing: a new visitor's token is signed, not stored."""
    after_seq = call.data.get("after_seq", 0)
    if not isinstance(after_seq, int) or isinstance(after_seq, bool) or after_seq < 0:
        return _error(400, "after_seq must be a non-negative integer.", field="after_seq")
    visitor_id = call.visitor_id or new_visitor_id()
    return JsonResponse(_state(request, call, visitor_id, after_seq=after_seq))


@widget_endpoint("identify")
def identify(request, call: WidgetRequest):
    """Throughline.identify(...): link a signed-in shopper; answers with the new state."""
    try:
        identify_visitor(site=call.site, visitor_id=call.visitor_id, request=call.data)
    except IdentifyError as exc:
        return _error(422, str(exc), field="jwt" if call.data.get("jwt") else "hash")
    return JsonResponse(_state(request, call, call.visitor_id))


@widget_endpoint("track")
def track(request, call: WidgetRequest):
    """Throughline.track(type, props): a commerce event for the browsing visitor."""
    kind, props = call.data.get("type"), call.data.get("props", {})
    if not isinstance(kind, str) or kind not in inbound.TRACK_TYPES:
        return _error(
            400, f"type must be one of {', '.join(sorted(inbound.TRACK_TYPES))}.", field="type"
        )
    if not isinstance(props, dict):
        return _error(400, "props must be an object.", field="props")
    event_id = call.data.get("event_id", "")
    if not isinstance(event_id, str) or len(event_id) > 64:
        return _error(400, "event_id must be a string of at most 64 characters.", field="event_id")
    try:
        inbound.track(visitor_id=call.visitor_id, type=kind, payload=props, event_id=event_id)
    except ValueError as exc:  # the events API's InvalidEvent names the field
        return _error(400, str(exc), field=getattr(exc, "field", "props"))
    customer = inbound.known_customer(call.visitor_id)  # made by the tracked event
    return JsonResponse(
        {
            "ok": True,
            "greeting": greeting_for(call.site, customer),
            "preferences_url": links.url_for(customer, "preferences") if customer else None,
        },
        status=202,
    )


@widget_endpoint("phone")
def phone_start(request, call: WidgetRequest):
    """Continue by SMS, step 1: text a code to the number."""
    try:
        start_phone_verification(
            site=call.site, visitor_id=call.visitor_id, phone=str(call.data.get("phone", ""))
        )
    except VerificationError as exc:
        return _error(422, str(exc), field="phone")
    return JsonResponse({"ok": True}, status=202)


@widget_endpoint("phone")
def phone_confirm(request, call: WidgetRequest):
    """Continue by SMS, step 2: the code came back; the phone is linked."""
    proof = None
    if call.data.get("consent") is True:  # the box was ticked (only JSON true counts)
        shown = consent.sms_disclosure(call.site.name)
        if call.data.get("disclosure_version") != shown.version:
            return _error(
                422, "The consent text changed; reload and read it again.", field="consent"
            )
        proof = shown.ticked(request)
    try:
        confirm_phone_verification(
            visitor_id=call.visitor_id, code=str(call.data.get("code", "")), proof=proof
        )
    except VerificationError as exc:
        return _error(422, str(exc), field="code")
    return JsonResponse(_state(request, call, call.visitor_id))


@widget_endpoint("phone")
def stop_messages(request, call: WidgetRequest):
    """The widget's "Stop messages": no more texts, calls or marketing (docs/widget.md)."""
    inbound.stop_messages(visitor_id=call.visitor_id)
    return JsonResponse({"ok": True, "stopped": True})


# ---------------------------------------------------------------------------- demo shop


def _demo_enabled():
    if not settings.WIDGET_DEMO:
        raise Http404("The demo shop is off (WIDGET_DEMO).")


def _demo_context(request, **extra) -> dict:
    site = demo.demo_site()
    token = jwt.encode(
        {
            "sub": demo.DEMO_USER_ID,
            "email": demo.DEMO_USER_EMAIL,
            "exp": int(time.time()) + 600,
        },
        site.secret,
        algorithm="HS256",
    )
    return {"site": site, "products": demo.PRODUCTS, "demo_jwt": token, **extra}


@require_GET
def demo_home(request):
    _demo_enabled()
    return render(request, "webchat/demo/home.html", _demo_context(request))


@require_GET
def demo_product(request, slug: str):
    _demo_enabled()
    product = demo.PRODUCTS_BY_SLUG.get(slug)
    if product is None:
        raise Http404("No such product in the demo shop.")
    product_json = json.dumps({key: product[key] for key in ("sku", "name", "price", "currency")})
    return render(
        request,
        "webchat/demo/product.html",
        _demo_context(request, product=product, product_json=product_json),
    )
