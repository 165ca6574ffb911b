"""The public side: the scan landing page `/s/<code>/`, its scan call, and the QR images.

The page itself writes nothing: link previews, prefetchers and crawlers fetch pages, and
they are not shoppers. The page's script then posts `/s/<code>/scan` with the widget's
visitor token from this browser, if it has one, and the scan is recorded on that
visitor's conversation (or held for a new anonymous visitor, whose token goes back to
the browser so the widget continues it: an anonymous scan writes its `Scan` row only,
instore/scans.py). Unknown, inactive and malformed codes all get the same friendly 404
and write nothing. Scan calls count against the client address's limit
(ADDRESS_RATE_LIMITS "scan"): past it, 429 with Retry-After. The page's consent box posts
`/s/<code>/consent` (`consent_box`): its proof is kept on the scan, and the "Text us"
text then ends with the marker that makes it the grant (docs/instore.md).
"""

from __future__ import annotations

import zoneinfo
from decimal import Decimal
from urllib.parse import quote

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django.views.decorators.http import require_GET, require_POST

from base import limits
from base.inputs import read_json
from conversations import consent
from conversations.visitors import (
    InvalidVisitorToken,
    issue_visitor_token,
    new_visitor_id,
    read_visitor_token,
)

from . import qr
from .codes import CONSENT_MARKER
from .models import WEEKDAYS, Placement, Store
from .scans import find_active_placement, record_scan, tick_consent_box

MAX_SCAN_BODY_BYTES = 4 * 1024
CURRENCY_SYMBOLS = {"USD": "$", "CAD": "CA$", "AUD": "A$", "EUR": "€", "GBP": "£", "JPY": "¥"}
MAX_PRODUCT_IN_TEXT = 60  # keeps the prefilled text to one SMS segment


def not_found(request: HttpRequest) -> HttpResponse:
    response = render(request, "instore/not_found.html", status=404)
    response["Cache-Control"] = "no-store"
    return response


def price_text(price: Decimal | None, currency: str) -> str:
    if price is None:
        return ""
    amount = f"{price:,.0f}" if currency == "JPY" else f"{price:,.2f}"
    symbol = CURRENCY_SYMBOLS.get(currency.upper())
    return f"{symbol}{amount}" if symbol else f"{amount} {currency}".strip()


def hours_today(store: Store) -> list[list[str]] | None:
    """Today's opening intervals in the store's own time zone; None when hours are unset."""
    if not store.business_hours:
        return None
    try:
        now = timezone.now().astimezone(zoneinfo.ZoneInfo(store.time_zone))
    except zoneinfo.ZoneInfoNotFoundError:
        return None
    return store.hours_on(WEEKDAYS[now.weekday()])


def sms_text(placement: Placement, reference: str = "", *, says_yes: bool = False) -> str:
    """The "Text us" text; `says_yes` (the consent box is ticked) adds the marker."""
    product = placement.product.name
    if len(product) > MAX_PRODUCT_IN_TEXT:
        product = product[: MAX_PRODUCT_IN_TEXT - 1] + "…"
    text = f"Hi! I'm at {placement.store.name} looking at the {product}."
    if not reference:
        return text
    return f"{text} Ref {reference}" + (f" {CONSENT_MARKER}" if says_yes else "")


def sms_link(phone: str, body: str) -> str:
    # "?&body=" is read by both iOS ("&body=") and Android ("?body=") messaging apps.
    return f"sms:{phone}?&body={quote(body, safe='')}"


def widget_site_key() -> str:
    """The widget the page opens. The demo site is made on first use, as its shop does."""
    key = settings.INSTORE_WIDGET_SITE_KEY
    if key and key == settings.INSTORE_DEMO_SITE_KEY and getattr(settings, "WIDGET_DEMO", False):
        try:
            import_string("channels_adapters.webchat.demo.demo_site")()
        except ImportError:
            return ""
    return key


@require_GET
def landing(request: HttpRequest, code: str) -> HttpResponse:
    placement = find_active_placement(code)
    if placement is None:
        return not_found(request)
    store, product = placement.store, placement.product
    site_key = widget_site_key()
    page = {
        "scanUrl": reverse("instore:scan", args=[placement.code]),
        "consentUrl": reverse("instore:consent", args=[placement.code]),
        "disclosureVersion": consent.sms_disclosure().version,
        "csrfToken": get_token(request),
        "siteKey": site_key,
        "widgetUrl": "/widget.js",  # a stable public URL (DESIGN.md)
    }
    response = render(
        request,
        "instore/landing.html",
        {
            "placement": placement,
            "store": store,
            "product": product,
            "price": price_text(product.price, product.currency),
            "hours_today": hours_today(store),
            "sms_href": sms_link(store.phone, sms_text(placement)) if store.phone else "",
            "tel_href": f"tel:{store.phone}" if store.phone else "",
            "disclosure": consent.sms_disclosure().text,
            "page": page,
        },
    )
    # The same for every shopper, but it carries a CSRF token: no shared caches.
    response["Cache-Control"] = "private, no-cache"
    return response


def _label_call(request: HttpRequest, code: str):
    """(placement, decoded JSON body) of a call from a label's landing page, or (None, the
    JsonResponse refusing it)."""
    placement = find_active_placement(code)
    if placement is None:
        return None, JsonResponse({"error": "Unknown code."}, status=404)
    if len(request.body) > MAX_SCAN_BODY_BYTES:
        return None, JsonResponse({"error": "Too large."}, status=413)
    try:
        return placement, read_json(request.body or b"{}")
    except ValueError as exc:
        return None, JsonResponse({"error": f"The body is {exc}."}, status=400)


@require_POST
@limits.limit_per_address("scan")
def scan(request: HttpRequest, code: str) -> JsonResponse:
    """Record the scan for this browser's visitor; answer with its token and the
    "Text us" link carrying the scan's reference."""
    placement, data = _label_call(request, code)
    if placement is None:
        return data  # the refusal
    token = data.get("token") if isinstance(data, dict) else None
    visitor_id = None
    if isinstance(token, str) and token:
        try:
            visitor_id = read_visitor_token(token)
        except InvalidVisitorToken:
            visitor_id = None  # forged or expired: carry on as a new visitor, as the widget does
    visitor_id = visitor_id or new_visitor_id()
    recorded = record_scan(placement=placement, visitor_id=visitor_id)
    text = sms_text(placement, recorded.reference)
    response = JsonResponse(
        {
            "token": issue_visitor_token(visitor_id),
            "reference": recorded.reference,
            "sms_body": text,
            "sms_href": sms_link(placement.store.phone, text) if placement.store.phone else "",
        }
    )
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@limits.limit_per_address("scan")
def consent_box(request: HttpRequest, code: str) -> JsonResponse:
    """The consent box beside "Text us", ticked (`consent: true`) or unticked: keep or
    forget its proof on the visitor's scan; answer with the "Text us" link to use now."""
    placement, data = _label_call(request, code)
    if placement is None:
        return data  # the refusal
    if not isinstance(data, dict) or not isinstance(data.get("reference"), str):
        return JsonResponse({"error": "reference: the scan's reference is required."}, status=400)
    try:
        visitor_id = read_visitor_token(str(data.get("token") or ""))
    except InvalidVisitorToken:
        return JsonResponse({"error": "token: not this browser's visitor token."}, status=400)
    proof = None
    if data.get("consent") is True:  # the box was ticked (only JSON true counts)
        shown = consent.sms_disclosure()
        if data.get("disclosure_version") != shown.version:
            return JsonResponse(
                {"error": "The consent text changed; reload and read it again."}, status=422
            )
        proof = shown.ticked(request)
    reference = data["reference"][:16]
    if not tick_consent_box(reference=reference, visitor_id=visitor_id, proof=proof):
        return JsonResponse({"error": "reference: no such scan of this visitor."}, status=404)
    text = sms_text(placement, reference, says_yes=proof is not None)
    response = JsonResponse(
        {
            "consent": proof is not None,
            "sms_body": text,
            "sms_href": sms_link(placement.store.phone, text) if placement.store.phone else "",
        }
    )
    response["Cache-Control"] = "no-store"
    return response


def _placement_for_image(request: HttpRequest, code: str) -> Placement:
    """Anyone may fetch the image of an active placement (it encodes only the code they
    already hold); staff may also fetch inactive ones, to print before a launch."""
    placement = find_active_placement(code)
    if placement is None and request.user.is_active and request.user.is_staff:
        placement = Placement.objects.filter(code=str(code).lower()).first()
    if placement is None:
        raise Http404("No such placement.")
    return placement


def _image(placement: Placement, body, content_type: str, extension: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    # The image depends only on the code and PUBLIC_BASE_URL, neither of which changes.
    response["Cache-Control"] = "public, max-age=86400" if placement.active else "private"
    response["Content-Disposition"] = f'inline; filename="qr-{placement.code}.{extension}"'
    return response


@require_GET
def qr_svg(request: HttpRequest, code: str) -> HttpResponse:
    placement = _placement_for_image(request, code)
    return _image(placement, qr.qr_svg(qr.placement_url(placement.code)), "image/svg+xml", "svg")


@require_GET
def qr_png(request: HttpRequest, code: str) -> HttpResponse:
    placement = _placement_for_image(request, code)
    return _image(placement, qr.qr_png(qr.placement_url(placement.code)), "image/png", "png")
