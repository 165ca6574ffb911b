"""The demo shop at /widget/demo/: three products and a Site of its own.

The demo site is made on first use, with a stable public key (so links and the quick
start banner keep working) and a random secret (so a deployment that leaves the demo on
does not hand out a known signing key). It is served only while WIDGET_DEMO is on.
"""

from __future__ import annotations

from .models import Site

DEMO_PUBLIC_KEY = "pk_demo_throughline_shop"
# The demo's "sign in" vouches for the seeded demo shopper (seed_demo's Dana Whitfield),
# so the merged history shows at once.
DEMO_USER_ID = "demo-dana"
DEMO_USER_EMAIL = "dana.whitfield@example.com"

PRODUCTS = [
    {
        "sku": "T900",
        "slug": "t900-folding-treadmill",
        "name": "T900 Folding Treadmill",
        "price": "1299.00",
        "currency": "USD",
        "blurb": "A quiet 3.5 HP motor, 0-12 mph, folds flat under a bed.",
    },
    {
        "sku": "B300",
        "slug": "b300-studio-bike",
        "name": "B300 Studio Bike",
        "price": "899.00",
        "currency": "USD",
        "blurb": "Magnetic resistance with 32 levels and a belt drive you will never hear.",
    },
    {
        "sku": "R500",
        "slug": "r500-rowing-machine",
        "name": "R500 Rowing Machine",
        "price": "1049.00",
        "currency": "USD",
        "blurb": "Air and magnetic resistance; stands upright in a corner when you are done.",
    },
]
PRODUCTS_BY_SLUG = {product["slug"]: product for product in PRODUCTS}


def demo_site() -> Site:
    site, _ = Site.objects.get_or_create(
        public_key=DEMO_PUBLIC_KEY,
        defaults={
            "name": "Throughline demo shop",
            "identify_hash_enabled": True,  # so the docs' hash example can be tried here
            "default_greeting": "Hi! Questions about a treadmill, bike or rower? Ask away.",
        },
    )
    return site
