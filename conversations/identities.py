"""Who is who: normalising identities, finding or creating customers, stitching them together.

Verbs: `resolve_customer`, `link_identity`, `merge_customers` (its undoing, `unmerge`, is
in merges.py). Each is safe under
concurrency; docs/subsystems/identities.md explains the locking.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Max, Sum
from django.utils import timezone

from base import plugins
from conversations import journal, merges
from conversations.broadcast import broadcast_resync_on_commit
from conversations.locks import merges_serialised
from conversations.models import Case, Conversation, Customer, Event, Identity, Merge


class InvalidIdentity(ValueError):
    """A phone, email or id that cannot be normalised; callers answer 400 with the message."""


# ---------------------------------------------------------------------------- normalising


def normalize_phone(raw: str, region: str | None = None) -> str:
    """Return the E.164 form of a phone number written in any usual way.

    National numbers are read in `region` (default `PHONE_DEFAULT_REGION`); `+` and `00`
    prefixes are international whatever the region.
    """
    return _e164(str(raw).strip(), region or settings.PHONE_DEFAULT_REGION)


@lru_cache(maxsize=4096)  # webhooks read the same senders over and over; parsing is not free
def _e164(text: str, region: str) -> str:
    if text.lstrip("( ").startswith("00"):
        # The ITU international prefix; phonenumbers only knows it for regions that dial it.
        text = "+" + text.lstrip("( ")[2:]
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidIdentity(f"Not a phone number: {exc.args[0]}") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidIdentity(
            "Not a valid phone number: use the international form (+14155550123) "
            f"or a national number of {region}."
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(raw: str) -> str:
    value = str(raw).strip().lower()
    try:
        validate_email(value)
    except ValidationError:
        raise InvalidIdentity("Not a valid email address.") from None
    return value


# Short codes are 3-8 digits by country (5-6 in the US and Canada); alphanumeric sender
# ids are 1-11 letters, digits, spaces and a few signs, with at least one letter (carriers'
# and Twilio's rule). Both are ASCII only: anything else is not such a sender.
_SHORT_CODE = re.compile(r"[0-9]{3,8}")
_ALPHANUMERIC = re.compile(r"(?=[^A-Za-z]*[A-Za-z])[A-Za-z0-9 +\-_&.]{1,11}")
WHATSAPP_PREFIX = "whatsapp:"


def normalize_whatsapp(raw: str) -> str:
    """The E.164 number of a WhatsApp account, written `whatsapp:+14155550123` or plainly."""
    text = str(raw).strip()
    if text[: len(WHATSAPP_PREFIX)].lower() == WHATSAPP_PREFIX:
        text = text[len(WHATSAPP_PREFIX) :]
    return normalize_phone(text)


def normalize_short_code(raw: str) -> str:
    text = str(raw).strip()
    if not _SHORT_CODE.fullmatch(text):
        raise InvalidIdentity("Not a short code: use 3 to 8 digits.")
    return text


def normalize_alphanumeric(raw: str) -> str:
    text = str(raw).strip()
    if not _ALPHANUMERIC.fullmatch(text):
        raise InvalidIdentity(
            "Not an alphanumeric sender id: 1 to 11 ASCII letters, digits, spaces or + - _ & ., "
            "with at least one letter."
        )
    return text


def sms_address_kind(address: str) -> str:
    """The identity kind of an address SMS is sent to: a phone (E.164) or a short code."""
    return Identity.Kind.SHORT_CODE if _SHORT_CODE.fullmatch(address) else Identity.Kind.PHONE


# keyed by Identity.Kind, looked up with the plain string a caller passes
_NORMALIZERS: dict[str, Callable[[str], str]] = {
    Identity.Kind.PHONE: normalize_phone,
    Identity.Kind.WHATSAPP: normalize_whatsapp,
    Identity.Kind.SHORT_CODE: normalize_short_code,
    Identity.Kind.ALPHANUMERIC: normalize_alphanumeric,
}


def normalize_identity(kind: str, value: str) -> tuple[str, str]:
    if kind in _NORMALIZERS:
        return kind, _NORMALIZERS[kind](value)
    if kind == Identity.Kind.EMAIL:
        return kind, normalize_email(value)
    if kind in (Identity.Kind.VISITOR, Identity.Kind.EXTERNAL):
        text = str(value).strip()
        if not text or len(text) > 254:
            raise InvalidIdentity(f"A {kind} id must be 1 to 254 characters.")
        return kind, text
    raise InvalidIdentity(
        f"Unknown identity kind {kind!r}; use one of {', '.join(Identity.Kind.values)}."
    )


# ---------------------------------------------------------------------------- customers


def live_customer(customer: Customer) -> Customer:
    """The customer that holds the conversation now, following `merged_into` as stored
    (not as a possibly stale `customer` object remembers it)."""
    return _follow_merges(Customer.objects.get(pk=customer.pk))


def _follow_merges(customer: Customer) -> Customer:
    while customer.merged_into_id is not None:
        customer = Customer.objects.get(pk=customer.merged_into_id)
    return customer


# Every inbound webhook starts here, so the lookup skips the ORM's query compiler (about
# half of an inbound SMS's time when it built a select_related query each call).
_CUSTOMER_BY_IDENTITY = """
SELECT c.* FROM conversations_customer c
JOIN conversations_identity i ON i.customer_id = c.id
WHERE i.kind = %s AND i.value = %s
"""


def _customer_with(kind: str, value: str) -> Customer | None:
    return next(iter(Customer.objects.raw(_CUSTOMER_BY_IDENTITY, [kind, value])), None)


def resolve_customer(kind: str, value: str, *, display_name: str = "") -> Customer:
    """Find the customer with this identity, or create customer + identity + conversation.

    Race-free: two first contacts from one phone at once make one customer, because the
    unique `(kind, value)` index lets only one identity in and the other creator retries
    as a finder.
    """
    kind, value = normalize_identity(kind, value)
    if (customer := _customer_with(kind, value)) is not None:
        return _follow_merges(customer)
    try:
        with transaction.atomic():
            customer = Customer.objects.create(display_name=display_name)
            Conversation.objects.create(customer=customer)
            Identity.objects.create(customer=customer, kind=kind, value=value)
            _took_identity(customer, kind, value)
    except IntegrityError:
        # another first contact created it while we tried; ours rolled back
        identity = Identity.objects.select_related("customer").get(kind=kind, value=value)
        return _follow_merges(identity.customer)
    return customer


def _took_identity(customer: Customer, kind: str, value: str) -> None:
    """A new identity is the customer's. A visitor id's: what apps held for the anonymous
    visitor is the customer's now (THROUGHLINE_VISITOR_HOOKS; instore: its scans), however
    it came (a first message, a linked visitor token, the email form). In the transaction
    that made the identity; the hooks are idempotent."""
    if kind == Identity.Kind.VISITOR:
        for hook in plugins.enabled("visitor_hooks"):
            hook(customer=customer, visitor_id=value)


def link_identity(customer: Customer, kind: str, value: str, *, verified: bool = False) -> Customer:
    """Attach an identity to a customer; if another customer has it, merge the two.

    Returns the customer that holds the conversation afterwards. Only call this with an
    identity the customer proved (a verified code, a signed claim, a reply from the
    number): linking is how histories merge.
    """
    kind, value = normalize_identity(kind, value)
    with transaction.atomic():
        customer = live_customer(customer)
        identity = (
            Identity.objects.filter(kind=kind, value=value).select_related("customer").first()
        )
        if identity is None:
            try:
                with transaction.atomic():
                    Identity.objects.create(
                        customer=customer,
                        kind=kind,
                        value=value,
                        verified_at=timezone.now() if verified else None,
                    )
            except IntegrityError:
                # linked concurrently by someone else: merge with whoever got it
                identity = Identity.objects.select_related("customer").get(kind=kind, value=value)
            else:
                journal.record(
                    customer=customer,
                    channel=Event.Channel.SYSTEM,
                    direction=Event.Direction.INTERNAL,
                    kind="identity",
                    body=f"Linked {kind}",
                    data={"kind": kind, "verified": verified},
                )
                _took_identity(customer, kind, value)
                return customer
        if verified and identity.verified_at is None:
            # proved now, though known before (a number that texted us, say)
            Identity.objects.filter(pk=identity.pk, verified_at=None).update(
                verified_at=timezone.now()
            )
        owner = _follow_merges(identity.customer)
        if owner.pk == customer.pk:
            return customer
        return merge_customers(customer, owner, reason=f"{kind} linked")


# A number's phone and its WhatsApp account are one person: each is an identity of its own
# (its own consent: STOP on WhatsApp is not STOP by SMS) of the same customer.
_SIBLING: dict[str, str] = {
    Identity.Kind.PHONE: Identity.Kind.WHATSAPP,
    Identity.Kind.WHATSAPP: Identity.Kind.PHONE,
}


def join_sibling(customer_id: int, kind: str, value: str) -> Customer | None:
    """After a first contact by phone or WhatsApp: if the same number is known on the other
    channel under another customer, make them one (link_identity merges); return the
    customer holding both, or None when there was nothing to join.

    Called only when an inbound event is the first of its conversation, so the common
    message from a known sender pays nothing for it.
    """
    sibling = _SIBLING.get(kind)
    if sibling is None:
        return None
    other = Identity.objects.filter(kind=sibling, value=value).values_list("customer_id", flat=True)
    other_id = other.first()
    if other_id is None:
        return None
    owner = _follow_merges(Customer.objects.get(pk=other_id))
    mine = _follow_merges(Customer.objects.get(pk=customer_id))
    if owner.pk == mine.pk:
        return None
    return link_identity(owner, kind, value)


def _lock_live_pair(a: Customer, b: Customer) -> tuple[Customer, Customer] | Customer:
    """Lock two live customers in pk order; return the one customer if they are already one.

    Called under the merge lock, so the chain of `merged_into` read here cannot change.
    """
    a, b = live_customer(a), live_customer(b)
    while True:
        if a.pk == b.pk:
            return a
        locked = list(
            Customer.objects.select_for_update(no_key=True)
            .filter(pk__in=[a.pk, b.pk])
            .order_by("pk")
        )
        if all(c.merged_into_id is None for c in locked):
            return locked[0], locked[1]
        # a concurrent merge finished while we waited for the locks; follow it and retry
        a, b = (_follow_merges(c) for c in locked)


def merge_customers(a: Customer, b: Customer, *, reason: str = "") -> Customer:
    """Fold two customers into one, losing nothing; return the survivor.

    The older customer survives, so merge(a, b) and merge(b, a) agree and a repeated or
    concurrent merge is a no-op. Steps, all in one transaction:
    1. take the merge lock, lock both customers (pk order), then both conversations;
    2. write the `Merge` row, then move identities, cases and events to the survivor, each
       table with one statement that also records what it moved (conversations/merges.py);
    3. renumber the survivor's timeline by `occurred_at` so `seq` stays gap-free
       (the `(conversation, seq)` constraint is deferred to commit for this);
    4. recompute the survivor's inbox summary, mark the other conversation merged and
       point the other customer at the survivor (`merged_into`);
    5. let other apps move what they hold (THROUGHLINE_MERGE_HOOKS);
    6. record a `merge` event; after commit, tell both conversations' sockets to resync.
    """
    with transaction.atomic():
        merges_serialised()
        pair = _lock_live_pair(a, b)
        if isinstance(pair, Customer):
            return pair
        survivor, merged = pair
        keep, gone = (
            Conversation.objects.select_for_update(no_key=True)
            .filter(customer__in=[survivor, merged])
            .order_by("customer_id")
        )

        merge = merges.begin(survivor=survivor, merged=merged, keep=keep, gone=gone, reason=reason)
        moved_identities = merges.move_rows(
            merge, Identity, "customer_id", from_value=merged.pk, to_value=survivor.pk
        )
        gone_case = gone.current_case
        if gone_case is not None and keep.current_case_id is not None:
            # Two open needs become one: the survivor's case carries on, the other closes.
            merges.change_rows(
                merge,
                Case,
                ids=[gone_case.pk],
                values={
                    "status": Case.Status.RESOLVED,
                    "resolved_at": timezone.now(),
                    "resolution": "merged",
                },
                from_customer=merged.pk,
            )
        merges.move_rows(merge, Case, "conversation_id", from_value=gone.pk, to_value=keep.pk)
        moved_events = merges.move_events(merge, gone=gone, keep=keep)
        merges.renumber_timeline(merge, keep)

        _resummarise(keep, gone)
        Conversation.objects.filter(pk=gone.pk).update(
            status=Conversation.Status.MERGED,
            last_seq=0,
            unread_count=0,
            current_case=None,
            priority=0,
        )
        survivor.traits = {**merged.traits, **survivor.traits}
        from conversations.names import kept_on_merge  # names reads live_customer from here

        survivor.display_name, survivor.name_source = kept_on_merge(survivor, merged)
        survivor.time_zone = survivor.time_zone or merged.time_zone
        survivor.locale = survivor.locale or merged.locale
        survivor.save(
            update_fields=["traits", "display_name", "name_source", "time_zone", "locale"]
        )
        Customer.objects.filter(pk=merged.pk).update(merged_into=survivor)

        for hook in plugins.enabled("merge_hooks"):
            hook(survivor=survivor, merged=merged)

        merge_event = journal.record(
            customer=survivor,
            channel=Event.Channel.SYSTEM,
            direction=Event.Direction.INTERNAL,
            kind="merge",
            body=f"Merged customer #{merged.pk} into this conversation",
            data={
                "merged_customer": merged.pk,
                "merged_conversation": gone.pk,
                "events_moved": moved_events,
                "identities_moved": moved_identities,
                "reason": reason,
                "merge": merge.pk,
            },
        )
        Merge.objects.filter(pk=merge.pk).update(merge_event_id=merge_event.pk)
        broadcast_resync_on_commit(gone.pk, moved_to=keep.pk)
        broadcast_resync_on_commit(keep.pk, moved_to=keep.pk)
    return survivor


def _resummarise(keep: Conversation, gone: Conversation) -> None:
    """Recompute the survivor's inbox summary from both (the events are already moved)."""
    totals = Event.objects.filter(conversation=keep).aggregate(last_event_at=Max("occurred_at"))
    keep.last_seq = Event.objects.filter(conversation=keep).count()
    keep.last_event_at = totals["last_event_at"]
    keep.last_inbound_at = _later(keep.last_inbound_at, gone.last_inbound_at)
    keep.last_outbound_at = _later(keep.last_outbound_at, gone.last_outbound_at)
    if gone.last_inbound_at and keep.last_inbound_at == gone.last_inbound_at:
        keep.last_channel = gone.last_channel
    keep.unread_count = (
        Conversation.objects.filter(pk__in=[keep.pk, gone.pk]).aggregate(n=Sum("unread_count"))["n"]
        or 0
    )
    case = Case.objects.filter(conversation=keep).exclude(status=Case.Status.RESOLVED).first()
    keep.current_case = case
    keep.status = Conversation.Status.OPEN if case else Conversation.Status.IDLE
    keep.priority = case.priority if case else 0
    keep.save()


def _later(x, y):
    return max(filter(None, [x, y]), default=None)
