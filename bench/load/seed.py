"""What the journeys need in a fresh database: the shop as an operator would set it up.

One widget site (the shop's origin allowed), the T900 in the catalogue, a store on the
shop's number, open around the clock, with a QR placement on the treadmill, an API key
for the shop's server, and agents: staff in the Agents group, each with a phone and
available, so a call is put through to one (a `<Dial>`) rather than to voicemail.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model

from api.keys import create_api_key
from channels_adapters.webchat.models import Site
from commerce.models import Product
from console.roles import ensure_roles
from conversations.models import AgentProfile
from instore.models import WEEKDAYS, Placement, Store

ORIGIN = "https://shop.example"
SHOP_NUMBER = "+14155550100"


@dataclass(frozen=True)
class Seeded:
    api_key: str
    site_key: str
    site_secret: str
    placement_code: str
    agents: list[tuple[str, str]]  # (username, password)


def seed_platform(*, agents: int = 1) -> Seeded:
    site = Site.objects.create(name="Bench shop", allowed_origins=[ORIGIN])
    product = Product.objects.create(
        sku="T900", name="T900 Folding Treadmill", price=Decimal("1299.00"), currency="USD"
    )
    store = Store.objects.create(
        name="Downtown",
        time_zone="America/Los_Angeles",
        phone=SHOP_NUMBER,
        business_hours={day: [["00:00", "24:00"]] for day in WEEKDAYS},
    )
    placement = Placement.objects.create(store=store, product=product, label="aisle 4")
    _, api_key = create_api_key(name="bench.load")
    group = ensure_roles()["Agents"]
    users = get_user_model().objects
    logins = []
    for n in range(agents):
        password = secrets.token_urlsafe(12)
        user = users.create_user(f"load-agent-{n}", password=password, is_staff=True)
        user.groups.add(group)
        AgentProfile.objects.create(user=user, phone=f"+1415555{170 + n:04d}", available=True)
        logins.append((user.username, password))
    return Seeded(api_key, site.public_key, site.secret, placement.code, logins)
