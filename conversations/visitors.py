"""Anonymous widget visitors: signed visitor tokens, and the customer they may become.

The browser keeps the token; the widget socket and the widget's HTTP calls present it.
The token names a `visitor` identity only: it proves "this browser was given this id
by us", never who the person is, so on its own it never merges anything.

An anonymous visitor costs nothing but the token (docs/widget.md, "What anonymous
traffic costs"): `customer_of` only reads, and the customer, its `visitor` identity and
its conversation are made by `become_customer`, which callers reach only when the
visitor does something worth keeping (a message, a verified identify or phone, a "Text
us" from a scan). `sweep_anonymous` removes what anonymous visitors left that never
became worth keeping.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Exists, OuterRef, ProtectedError
from django.utils import timezone

from conversations.broadcast import _publish_rollback_unsafe
from conversations.identities import live_customer, resolve_customer
from conversations.models import Case, Conversation, Customer, Event, Identity

SALT = "throughline.visitor"
MAX_AGE = 60 * 60 * 24 * 400  # about 13 months, as long as a first-party cookie may live


class InvalidVisitorToken(ValueError):
    """Forged, altered or expired: callers answer 403 (HTTP) or close the socket."""


def new_visitor_id() -> str:
    return "v_" + secrets.token_urlsafe(16)


def issue_visitor_token(visitor_id: str) -> str:
    return signing.dumps({"v": visitor_id}, salt=SALT, compress=False)


def read_visitor_token(token: str) -> str:
    """The visitor id inside a valid token."""
    try:
        payload = signing.loads(str(token), salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:
        raise InvalidVisitorToken("Invalid or expired visitor token.") from None
    visitor_id = payload.get("v") if isinstance(payload, dict) else None
    if not isinstance(visitor_id, str) or not visitor_id:
        raise InvalidVisitorToken("Invalid visitor token.")
    return visitor_id


# ---------------------------------------------------------------------------- becoming a customer


def visitor_group(visitor_id: str) -> str:
    """The Channels group of a visitor's sockets while it has no conversation: told when
    one is made. Hashed: any signed id makes a valid group name, and none is shown."""
    return "visitor." + hashlib.sha256(visitor_id.encode()).hexdigest()[:32]


def customer_of(visitor_id: str) -> Customer | None:
    """The customer behind the visitor (followed through merges), or None while the
    visitor is anonymous. Reads only."""
    identity = (
        Identity.objects.select_related("customer")
        .filter(kind=Identity.Kind.VISITOR, value=visitor_id)
        .first()
    )
    if identity is None:
        return None
    customer = identity.customer
    return customer if customer.merged_into_id is None else live_customer(customer)


def become_customer(visitor_id: str) -> Customer:
    """The visitor did something worth keeping: the customer behind them, made now when
    there is none (customer, `visitor` identity, conversation).

    Race-free as `resolve_customer` is: two first messages at once make one customer. In
    the same transaction, the creator's `resolve_customer` runs THROUGHLINE_VISITOR_HOOKS:
    apps take what they held for the anonymous visitor (instore: its scans). After commit,
    the visitor's other sockets are told the conversation.
    """
    if (customer := customer_of(visitor_id)) is not None:
        return customer
    with transaction.atomic():
        customer = resolve_customer(Identity.Kind.VISITOR, visitor_id)
        conversation_id = Conversation.objects.values_list("pk", flat=True).get(customer=customer)
        message = {"type": "visitor.customer", "conversation": conversation_id}
        transaction.on_commit(
            lambda: _publish_rollback_unsafe([(visitor_group(visitor_id), message)]),
            robust=True,
        )
    return customer


# ---------------------------------------------------------------------------- the sweep


def _kept_by_others():
    """Filters keeping a customer that any other row points at (a cart, a preference, a
    call back…): the sweep removes only customers nothing refers to."""
    own = {Identity, Conversation, Customer}
    filters = []
    for relation in Customer._meta.related_objects:
        related = relation.related_model
        assert not isinstance(related, str)  # "self" is resolved to a class once apps load
        if related in own:
            continue
        field = relation.field.name
        filters.append(~Exists(related._base_manager.filter(**{field: OuterRef("pk")})))
    return filters


def sweepable_customers(*, now=None):
    """Customers made for anonymous visitors that never became worth keeping: older than
    ANONYMOUS_SWEEP_AFTER, known by `visitor` identities only, with an empty conversation,
    nobody merged into them, and no other row pointing at them."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.ANONYMOUS_SWEEP_AFTER)
    return Customer.objects.filter(
        ~Exists(Identity.objects.filter(customer=OuterRef("pk")).exclude(kind="visitor")),
        ~Exists(Event.objects.filter(conversation__customer=OuterRef("pk"))),
        ~Exists(Case.objects.filter(conversation__customer=OuterRef("pk"))),
        ~Exists(Customer.objects.filter(merged_into=OuterRef("pk"))),
        *_kept_by_others(),
        created_at__lt=cutoff,
        merged_into=None,
    )


def sweep_anonymous(*, batch_size: int = 500, max_batches: int = 10, now=None) -> int:
    """Remove up to batch_size * max_batches sweepable customers (with their identities
    and conversations); return how many went.

    Budget: a batch is one transaction of a few statements over at most 500 customers
    (well under a second); 10 batches keep an hourly run short, and a backlog (the empty
    customers made before anonymous visitors were free) drains over the following runs.
    Rows are claimed with SKIP LOCKED, and each one is checked again under its lock: a
    visitor writing their first message at that moment keeps their customer.
    """
    removed = 0
    for _ in range(max_batches):
        with transaction.atomic():
            ids = list(
                # FOR UPDATE, not NO KEY: these rows are about to be deleted
                sweepable_customers(now=now)
                .select_for_update(skip_locked=True, no_key=False, of=("self",))
                .values_list("pk", flat=True)[:batch_size]
            )
            if not ids:
                break
            # the conversations' rows are what a first message locks (conversation_for_update)
            locking = Conversation.objects.select_for_update(no_key=False, skip_locked=True)
            conversations = locking.filter(customer_id__in=ids)
            locked = set(conversations.values_list("customer_id", flat=True))
            ids = list(
                sweepable_customers(now=now).filter(pk__in=locked).values_list("pk", flat=True)
            )
            try:
                Conversation.objects.filter(customer_id__in=ids).delete()
                Identity.objects.filter(customer_id__in=ids).delete()
                removed += (
                    Customer.objects.filter(pk__in=ids).delete()[1].get(Customer._meta.label, 0)
                )
            except ProtectedError:
                # a row pointing at one of them appeared between the check and the delete
                transaction.set_rollback(True)
                break
    return removed
