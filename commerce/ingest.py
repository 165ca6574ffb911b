"""The shop's events in: append them to the journal, update carts and orders.

Verbs: `ingest_event` (one event, for the widget's `Throughline.track`),
`ingest_events` (validated events of known customers) and `ingest_batch` (the same for
`POST /api/v1/events`, whose events name their customers by reference: finding or
creating those customers is part of the batch). docs/api.md describes the payloads.

All or nothing: each verb is one transaction, so a batch that fails anywhere (a
rejected event, a database error on its last line) leaves no row behind, not even the
customers it created. The state tables follow the events in the order they happened,
not the order they arrived (state.py).

Idempotency: the event's `event_id` is the journal event's `source_id`, so the same id
again is accepted and ignored. Within a batch's transaction the ids are serialised with
advisory locks before anything is written, so two requests carrying the same id at once
cannot both update a cart: the second waits, then finds the first one's event.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Q

from conversations import consent
from conversations.batch import record_many
from conversations.identities import normalize_identity, resolve_customer
from conversations.models import Customer, Event, Identity

from .state import apply_events
from .validation import CommerceEvent, InvalidEvent, validate_event

# pg_advisory_xact_lock(int, int) key space of event ids ("evnt"), apart from the
# single-bigint merge lock of conversations/locks.py.
EVENT_ID_LOCK_SPACE = 0x65766E74

# How an API caller names a customer: (identity kind, value, display name if new).
Reference = tuple[str, str, str]


class BatchRefused(InvalidEvent):
    """A valid event of the batch that cannot be taken as it stands (a consent to texts
    for a customer with no phone); nothing of the batch was stored."""

    def __init__(self, index: int, field: str, message: str):
        super().__init__(field, message)
        self.index = index


@dataclass(frozen=True)
class Outcome:
    event: Event
    duplicate: bool  # the event_id was seen before: nothing was written this time


# ---------------------------------------------------------------------------- ingesting


def ingest_event(
    *,
    customer: Customer,
    event_id: str,
    type: str,  # the event's type, as the API and Throughline.track name it
    payload: dict,
    occurred_at: datetime | str | None = None,
    channel: str = Event.Channel.API,
) -> Event:
    """Validate and ingest one event; return its journal event (the original on a repeat).

    `channel` is "api" for the shop's servers and "web" for the widget. Raises
    `InvalidEvent` before writing anything.
    """
    item = validate_event(event_id=event_id, type=type, payload=payload, occurred_at=occurred_at)
    (outcome,) = ingest_events([(customer, item)], channel=channel)
    return outcome.event


def ingest_events(
    batch: Sequence[tuple[Customer, CommerceEvent]], *, channel: str = Event.Channel.API
) -> list[Outcome]:
    """Ingest validated events in one transaction; return one `Outcome` per item, in order."""
    with transaction.atomic(durable=True):
        _lock_event_ids(channel, batch)
        return _ingest_locked(batch, channel)


def ingest_batch(
    batch: Sequence[tuple[Reference, CommerceEvent]], *, channel: str = Event.Channel.API
) -> list[Outcome]:
    """Find or create the referenced customers and ingest their events, all in one
    transaction; return one `Outcome` per item, in order.

    Nothing of the batch stays if any of it fails, the customers it created included
    (docs/api.md promises the caller that nothing was stored). The event ids are locked
    before the new customers are created, and those are created in one sorted order, so
    concurrent batches cannot deadlock on each other's new identities.
    """
    with transaction.atomic(durable=True):
        _lock_event_ids(channel, batch)
        customers = resolve_customers(reference for reference, _ in batch)
        outcomes = _ingest_locked(
            [
                (customers[normalize_identity(kind, value)], item)
                for (kind, value, _), item in batch
            ],
            channel,
        )
        for index, ((kind, value, _), item) in enumerate(batch):
            if item.consent is not None and not outcomes[index].duplicate:
                reference = normalize_identity(kind, value)
                try:
                    record_consent(customers[reference], reference, item, outcomes[index].event)
                except InvalidEvent as error:  # the whole batch goes back
                    raise BatchRefused(index, error.field, error.message) from None
        return outcomes


def _ingest_locked(batch: Sequence[tuple[Customer, CommerceEvent]], channel: str) -> list[Outcome]:
    """The body of the verbs above, inside their transaction, with the event ids locked.

    1. Read which of the event ids the journal already has: those are duplicates and
       write nothing.
    2. Append the rest to the journal at once (`batch.record_many`, which locks the
       conversations in customer order, so concurrent batches cannot deadlock), each
       customer's events in the order sent.
    3. Update the commerce tables for the whole batch in a few bulk statements
       (`state.apply_events`), each customer's events in the order they happened.
    """
    event_ids = {item.event_id for _, item in batch}
    outcomes: list[Outcome | None] = [None] * len(batch)
    seen = {
        event.source_id: event
        for event in Event.objects.filter(channel=channel, source_id__in=event_ids)
    }
    new: list[int] = []  # indexes to append, customer by customer (pk order)
    firsts: set[str] = set()
    for index in sorted(range(len(batch)), key=lambda i: (batch[i][0].pk, i)):
        item = batch[index][1]
        if item.event_id in seen:
            outcomes[index] = Outcome(seen[item.event_id], duplicate=True)
        elif item.event_id not in firsts:
            firsts.add(item.event_id)
            new.append(index)
        # else a repeat inside the batch: answered below with its first appearance
    events = record_many(
        [
            {
                "customer": batch[index][0],
                "channel": channel,
                "kind": batch[index][1].kind,
                # Shop activity is not the customer talking to us: it must not move the
                # inbox's "last inbound" nor become the channel to answer on.
                "direction": Event.Direction.INTERNAL,
                "body": _summary(batch[index][1]),
                "data": {"type": batch[index][1].type, **batch[index][1].payload},
                "source_id": batch[index][1].event_id,
                "occurred_at": batch[index][1].occurred_at,
            }
            for index in new
        ]
    )
    for index, event in zip(new, events, strict=True):
        seen[batch[index][1].event_id] = event
        outcomes[index] = Outcome(event, duplicate=False)
    for index, outcome in enumerate(outcomes):
        if outcome is None:
            outcomes[index] = Outcome(seen[batch[index][1].event_id], duplicate=True)
    apply_events(
        [
            (event.conversation.customer_id, event, batch[index][1])
            for index, event in zip(new, events, strict=True)
        ]
    )
    return outcomes  # type: ignore[return-value]  # every index was filled above


def record_consent(
    customer: Customer, reference: tuple[str, str], item: CommerceEvent, event: Event
) -> None:
    """Record the consent box ticked with `item` in the consent ledger, with its proof,
    inside the caller's transaction (the same verb as the widget's "Continue by SMS" box).

    By SMS it is the grant of a phone: the one the event names the customer by, else the
    customer's only phone; none, or several and none named, raises `InvalidEvent` (we
    cannot say which number agreed). By web it changes no identity: a ledger line per
    topic on the customer. `source` says where: "api:order_placed", ...
    """
    from privacy import ledger  # the ledger app; imported here, as the hooks import it

    given = item.consent
    if given is None:
        return
    proof = consent.Proof(
        text=given.text,
        version=given.text_version,
        topics=tuple(given.topics),
        channel=given.channel,
        ip=given.ip,
        user_agent=given.user_agent,
    )
    at = given.given_at or event.occurred_at
    source = f"api:{item.type}"
    if given.channel == "web":
        for topic in given.topics:
            ledger.record_grant(
                customer, topic=topic, channel="web", source=source, proof=proof,
                occurred_at=at, event=event,
            )  # fmt: skip
        return
    phones = Identity.objects.filter(customer=customer, kind=Identity.Kind.PHONE)
    if reference[0] == Identity.Kind.PHONE:
        phones = phones.filter(value=reference[1])
    found = list(phones[:2])
    if len(found) != 1:
        raise InvalidEvent(
            "consent.channel",
            "sms needs the customer's phone: name the customer by phone "
            f"({'they have several' if found else 'they have none'}).",
        )
    consent.opt_in(
        found[0],
        source=source,
        channel=Event.Channel.API,
        direction=Event.Direction.INTERNAL,
        body=f"Ticked the box to receive texts ({', '.join(given.topics)})",
        occurred_at=at,
        proof=proof,
    )


def resolve_customers(references: Iterable[Reference]) -> dict[tuple[str, str], Customer]:
    """The customers named by (kind, value, display name) references, by (kind, value).

    What `identities.resolve_customer` gives for each, in one query for the known ones:
    only new identities (created by `resolve_customer`, race-free) and merged customers
    (followed to their survivor) cost more. Keys are the normalised (kind, value).
    New customers are created in sorted order (see `ingest_batch`), and are not
    committed here: call this inside the transaction that uses them.
    """
    names: dict[tuple[str, str], str] = {}
    for kind, value, display_name in references:
        names.setdefault(normalize_identity(kind, value), display_name)
    if not names:
        return {}
    by_kind: dict[str, list[str]] = {}
    for kind, value in names:
        by_kind.setdefault(kind, []).append(value)
    query = Q()
    for kind, values in by_kind.items():
        query |= Q(kind=kind, value__in=values)
    found = {
        (identity.kind, identity.value): identity.customer
        for identity in Identity.objects.filter(query).select_related("customer")
    }
    customers = {}
    for key, display_name in sorted(names.items()):
        customer = found.get(key)
        if customer is None or customer.merged_into_id is not None:
            customer = resolve_customer(*key, display_name=display_name)
        customers[key] = customer
    return customers


def _lock_event_ids(channel: str, batch: Sequence[tuple[object, CommerceEvent]]) -> None:
    """Hold each of the batch's event ids' advisory lock until commit, taken in one sorted
    order, before any row lock."""
    event_ids = sorted({item.event_id for _, item in batch})
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock(%s, key)) FROM ("
            "  SELECT DISTINCT hashtext(%s || id) AS key FROM unnest(%s::text[]) AS id"
            "  ORDER BY key) AS keys",
            [EVENT_ID_LOCK_SPACE, f"{channel}:", event_ids],
        )


def _summary(item: CommerceEvent) -> str:
    """The timeline's one line for the event (agents read it)."""
    p = item.payload
    if item.type == "page_viewed":
        return f"Viewed {p['title'] or p['url']}"
    if item.type == "product_viewed":
        return f"Viewed {p['name']}"
    if item.type == "cart_updated":
        if not p["items"]:
            return "Emptied the cart"
        return f"Cart: {_count(p['item_count'], 'item')}, {p['currency']} {p['value']}"
    if item.type == "checkout_started":
        return "Started checkout"
    return f"Placed order {p['order_id']}: {p['currency']} {p['total']}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
