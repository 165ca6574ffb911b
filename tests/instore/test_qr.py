"""The printed codes scan: a QR reader we did not write (zxing-cpp) decodes our PNG and,
rendered by a real SVG renderer (Chromium), our SVG, back to the placement's URL."""

import io
import shutil

import pytest
import zxingcpp
from django.urls import reverse
from PIL import Image

from instore import qr
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.instore.factories import PlacementFactory

pytestmark = pytest.mark.django_db


def decode(image: Image.Image) -> list:
    return [b for b in zxingcpp.read_barcodes(image) if b.format == zxingcpp.BarcodeFormat.QRCode]


def rasterise_svg(svg: str, size_px: int = 400) -> Image.Image:
    """Draw the SVG as a browser does, at label-like size, on a white page."""
    if not shutil.which(CHROMIUM):
        pytest.fail(f"Chromium is needed at {CHROMIUM} to render SVG (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    html = (
        "<!doctype html><html><body style='margin:0;background:#fff'>"
        f"<div style='width:{size_px}px;height:{size_px}px'>{svg}</div></body></html>"
    )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": size_px, "height": size_px})
            page.set_content(html.replace("<svg ", "<svg style='width:100%;height:100%' ", 1))
            png = page.screenshot(clip={"x": 0, "y": 0, "width": size_px, "height": size_px})
        finally:
            browser.close()
    return Image.open(io.BytesIO(png))


def test_the_png_decodes_to_the_placement_url_with_error_correction_q(client):
    placement = PlacementFactory()

    response = client.get(reverse("instore:qr-png", args=[placement.code]))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    [barcode] = decode(Image.open(io.BytesIO(response.content)))
    assert barcode.text == f"https://shop.example.com/s/{placement.code}/"
    assert barcode.ec_level == "Q"


def test_the_png_keeps_a_quiet_zone_of_four_modules():
    image = Image.open(io.BytesIO(qr.qr_png("https://shop.example.com/s/abcdefghjk/"))).convert("L")
    border = qr.QUIET_ZONE * qr.PNG_MODULE_PIXELS
    width, height = image.size

    edge_boxes = [
        (0, 0, width, border),
        (0, height - border, width, height),
        (0, 0, border, height),
        (width - border, 0, width, height),
    ]

    assert all(image.crop(box).getextrema() == (255, 255) for box in edge_boxes)
    # and the symbol starts right inside it: a finder pattern's dark corner
    assert image.getpixel((border, border)) == 0


def test_the_svg_rendered_by_a_browser_decodes_to_the_placement_url(client):
    placement = PlacementFactory()

    response = client.get(reverse("instore:qr-svg", args=[placement.code]))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    [barcode] = decode(rasterise_svg(response.content.decode()))
    assert barcode.text == f"https://shop.example.com/s/{placement.code}/"
    assert barcode.ec_level == "Q"


def test_the_url_follows_public_base_url(settings):
    settings.PUBLIC_BASE_URL = "https://throughline.example.org"

    [barcode] = decode(Image.open(io.BytesIO(qr.qr_png(qr.placement_url("k7m2x9q4ab")))))

    assert barcode.text == "https://throughline.example.org/s/k7m2x9q4ab/"


def test_images_of_inactive_placements_are_for_staff_only(client, agent):
    placement = PlacementFactory(active=False)
    url = reverse("instore:qr-png", args=[placement.code])

    public = client.get(url)
    client.force_login(agent)
    staff = client.get(url)

    assert public.status_code == 404
    assert staff.status_code == 200
    assert staff["Cache-Control"] == "private"


def test_an_unknown_code_has_no_image(client):
    assert client.get(reverse("instore:qr-svg", args=["zzzzzzzzzz"])).status_code == 404
