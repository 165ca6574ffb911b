"""The events API against its floor: `python -m bench.events_ingest` (about 1 min).

Batches of 500 commerce events (40% page views, 30% product views, 25% cart snapshots of
two lines, 5% orders) over 200 known customers go through the real thing: gunicorn with
sync workers and production settings on 127.0.0.1, `POST /api/v1/events` over a kept-alive
connection, one batch at a time. The floor writes the same rows for the same kind of
batch with bulk ORM inserts in one transaction in this process (events with their seq,
cart lines, orders, product interest), also one batch at a time, on customers of its own.
Floor and API alternate batch by batch; the figure is the median of the per-round ratios
of events per second.

Everything runs on a scratch database, `<the configured database>_bench_events`, made and
dropped here (named after the configured one, so runs on different databases of one server
cannot drop each other's).
"""

# ruff: noqa: E402  (Django must be set up before the models are imported)
from __future__ import annotations

from bench import median, release_connections, scratch_database, setup_django, verdict

setup_django()

import http.client
import json
import random
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from api.keys import create_api_key
from bench._webhooks import PORT, Server  # the server, as in production
from commerce.models import Cart, CartItem, Order, Product, ProductInterest
from conversations.identities import resolve_customer
from conversations.models import Conversation, Event

DATABASE = f"{settings.DATABASES['default']['NAME']}_bench_events"
BATCH = 500
CUSTOMERS = 200
WARMUP_ROUNDS = 3
ROUNDS = 15
PRODUCTS = [(f"SKU{n}", f"Product {n}", Decimal(f"{49 + n * 10}.00")) for n in range(40)]


# ---------------------------------------------------------------------------- batches


def make_batch(number: int, references: list[str]) -> list[dict]:
    rng = random.Random(number)
    events = []
    for n in range(BATCH):
        sku, name, price = rng.choice(PRODUCTS)
        roll = rng.random()
        if roll < 0.40:
            kind, payload = "page_viewed", {"url": f"https://shop.example/p/{sku}", "title": name}
        elif roll < 0.70:
            kind = "product_viewed"
            payload = {"sku": sku, "name": name, "price": str(price), "currency": "USD"}
        elif roll < 0.95:
            other = rng.choice(PRODUCTS)
            lines = [
                {"sku": sku, "name": name, "quantity": 1, "price": str(price)},
                {"sku": other[0], "name": other[1], "quantity": 2, "price": str(other[2])},
            ]
            kind, payload = "cart_updated", {"currency": "USD", "items": lines}
        else:
            kind = "order_placed"
            payload = {
                "order_id": f"{number}-{n}",
                "currency": "USD",
                "items": [{"sku": sku, "name": name, "quantity": 1, "price": str(price)}],
            }
        events.append(
            {
                "event_id": f"b{number}-{n}",
                "type": kind,
                "customer": {"external_id": rng.choice(references)},
                "payload": payload,
            }
        )
    return events


# ---------------------------------------------------------------------------- the floor


class Floor:
    """The same rows, bulk-inserted by the ORM: no validation, no locks, no journal."""

    def __init__(self, conversations: list[Conversation]):
        self.conversations = {f"floor-{n}": c for n, c in enumerate(conversations)}
        self.seq = {c.pk: 0 for c in conversations}
        self.carts = {c.pk: Cart.objects.create(customer_id=c.customer_id) for c in conversations}
        self.products = {p.sku: p.pk for p in Product.objects.all()}

    def write(self, batch: list[dict]) -> None:
        now = timezone.now()
        events, lines, orders, interests = [], [], [], {}
        for item in batch:
            conversation = self.conversations[item["customer"]["external_id"]]
            self.seq[conversation.pk] += 1
            payload = item["payload"]
            events.append(
                Event(
                    conversation=conversation,
                    seq=self.seq[conversation.pk],
                    channel="api",
                    direction="internal",
                    kind=item["type"],
                    body=item["type"],
                    data={"type": item["type"], **payload},
                    occurred_at=now,
                    recorded_at=now,
                    source_id=item["event_id"],
                )
            )
            if item["type"] == "product_viewed":
                key = (conversation.customer_id, self.products[payload["sku"]])
                interests[key] = ProductInterest(
                    customer_id=key[0],
                    product_id=key[1],
                    views=1,
                    first_viewed_at=now,
                    last_viewed_at=now,
                )
            elif item["type"] == "cart_updated":
                for position, line in enumerate(payload["items"]):
                    lines.append(
                        CartItem(
                            cart=self.carts[conversation.pk],
                            product_id=self.products[line["sku"]],
                            position=position,
                            sku=line["sku"],
                            name=line["name"],
                            quantity=line["quantity"],
                            unit_price=Decimal(line["price"]),
                        )
                    )
            elif item["type"] == "order_placed":
                orders.append(
                    Order(
                        external_id=f"floor-{payload['order_id']}",
                        customer_id=conversation.customer_id,
                        currency="USD",
                        total=Decimal(payload["items"][0]["price"]),
                        items=payload["items"],
                        placed_at=now,
                    )
                )
        with transaction.atomic():
            Event.objects.bulk_create(events)
            CartItem.objects.bulk_create(lines)
            Order.objects.bulk_create(orders)
            ProductInterest.objects.bulk_create(
                interests.values(),
                update_conflicts=True,
                unique_fields=["customer", "product"],
                update_fields=["views", "last_viewed_at"],
            )


class ApiClient:
    def __init__(self, key: str):
        self.key = key
        self.http = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)

    def send(self, batch: list[dict]) -> dict:
        body = json.dumps({"events": batch})
        self.http.request(
            "POST",
            "/api/v1/events",
            body=body,
            headers={"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"},
        )
        response = self.http.getresponse()
        answer = json.loads(response.read())
        if response.status != 200:
            raise RuntimeError(f"the API answered {response.status}: {answer}")
        return answer


# ---------------------------------------------------------------------------- main


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main() -> None:
    started = time.monotonic()
    with scratch_database(DATABASE), tempfile.TemporaryDirectory() as workdir:
        api_refs = [f"bench-{n}" for n in range(CUSTOMERS)]
        floor_refs = [f"floor-{n}" for n in range(CUSTOMERS)]
        for ref in api_refs:
            resolve_customer("external", ref)
        floor_conversations = [resolve_customer("external", ref).conversation for ref in floor_refs]
        Product.objects.bulk_create(
            Product(sku=sku, name=name, price=price, currency="USD")
            for sku, name, price in PRODUCTS
        )
        floor = Floor(floor_conversations)
        _, key = create_api_key(name="bench")
        server = Server(Path(workdir), extra_env={"API_RATE_LIMIT": "0"})  # not what we measure
        release_connections()  # the server opens its own
        server.start()
        try:
            client = ApiClient(key)
            print(f"setup: {time.monotonic() - started:.1f} s", flush=True)
            api_rates, floor_rates, ratios = [], [], []
            for number in range(WARMUP_ROUNDS + ROUNDS):
                api_batch = make_batch(number, api_refs)
                floor_batch = make_batch(number, floor_refs)
                for item in floor_batch:
                    item["event_id"] = "f" + item["event_id"]
                pair = [("api", lambda b=api_batch: client.send(b)),
                        ("floor", lambda b=floor_batch: floor.write(b))]  # fmt: skip
                if number % 2:
                    pair.reverse()
                seconds = {name: timed(action) for name, action in pair}
                if number >= WARMUP_ROUNDS:
                    api_rates.append(BATCH / seconds["api"])
                    floor_rates.append(BATCH / seconds["floor"])
                    ratios.append(seconds["floor"] / seconds["api"])
            stored = Event.objects.filter(channel="api", source_id__startswith="b").count()
            expected = BATCH * (WARMUP_ROUNDS + ROUNDS)
            if stored != expected:
                raise RuntimeError(f"the API stored {stored} events of {expected}")
            again = client.send(make_batch(0, api_refs))  # a whole batch resent
            print(
                f"batches of {BATCH} events, {ROUNDS} rounds, medians: "
                f"API {median(api_rates):.0f} events/s "
                f"({BATCH / median(api_rates) * 1000:.0f} ms a batch); "
                f"floor (bulk ORM inserts) {median(floor_rates):.0f} events/s\n"
                f"  per-round ratios: {' '.join(f'{r:.2f}' for r in ratios)}\n"
                f"  a resent batch: {again['duplicates']} of {BATCH} reported as duplicates",
                flush=True,
            )
        finally:
            server.stop()
            release_connections()
    print(f"total: {time.monotonic() - started:.0f} s", flush=True)
    print(verdict("events_ingest.ratio", median(ratios), at_least=0.4), flush=True)


if __name__ == "__main__":
    main()
