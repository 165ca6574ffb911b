"""QR images of a placement's public URL, as SVG (print) and PNG (everything else).

Error correction Q survives a quarter of the symbol torn, scuffed or covered by a price
sticker, which shelf labels meet; the quiet zone is the standard's 4 modules, so a
scanner finds the code on a busy shelf edge.
"""

from __future__ import annotations

import io

import qrcode
import qrcode.constants
import qrcode.image.svg
from django.conf import settings
from django.urls import reverse

ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_Q
QUIET_ZONE = 4  # modules
PNG_MODULE_PIXELS = 10  # a version-4 code is 410 px wide: sharp on screen and on paper


def placement_url(code: str) -> str:
    """What the label encodes: PUBLIC_BASE_URL/s/<code>/."""
    return settings.PUBLIC_BASE_URL + reverse("instore:landing", args=[code])


def _symbol(data: str, image_factory=None) -> qrcode.QRCode:
    symbol = qrcode.QRCode(
        error_correction=ERROR_CORRECTION,
        border=QUIET_ZONE,
        box_size=PNG_MODULE_PIXELS,
        image_factory=image_factory,
    )
    symbol.add_data(data)
    symbol.make(fit=True)
    return symbol


def qr_svg(data: str) -> str:
    """A standalone SVG document, white background included, one module per viewBox unit."""
    image = _symbol(data, qrcode.image.svg.SvgPathFillImage).make_image()
    return image.to_string(encoding="unicode")


def qr_png(data: str) -> bytes:
    image = _symbol(data).make_image(fill_color="black", back_color="white")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
