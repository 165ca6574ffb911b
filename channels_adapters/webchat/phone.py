"""The "Continue by SMS" flow: prove a phone number with a one-time code, then link it.

Verbs: `start_phone_verification` texts a code, `confirm_phone_verification` checks it
and links the phone (verified) to the visitor's customer, merging histories if the
number already has one. Codes are stored as keyed hashes only, expire after CODE_TTL,
and MAX_ATTEMPTS wrong guesses burn them; sends are capped per visitor and per number.

The code goes straight to the SMS backend (the one door to the provider), not through
`conversations.outbox.send`: the outbox sends to a customer's *linked* number, and this
number is not linked until the code comes back. It also keeps the code out of the
journal, where agents (and a later merge) would see it.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from conversations import consent
from conversations.consent import is_opted_out
from conversations.identities import InvalidIdentity, link_identity, normalize_phone
from conversations.models import Customer, Event
from conversations.outbox import SendError

from .inbound import visitor_customer
from .models import PhoneVerification, Site

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=10)
MAX_ATTEMPTS = 5
MAX_SENDS_PER_VISITOR = 3  # within SEND_WINDOW
MAX_SENDS_PER_PHONE = 5  # within SEND_WINDOW, whoever asks: no texting a stranger to death
SEND_WINDOW = timedelta(hours=1)


def sms_reach(customer: Customer | None) -> dict:
    """Whether the widget should offer "Continue by SMS": not to a shopper we can text
    already, one whose number is verified or who has texted us from it (and has not
    said STOP there). `{"reachable": bool, "message": str}`; no number in it."""
    if customer is None:
        return {"reachable": False, "message": ""}
    phones = customer.identities.filter(kind="phone", opted_out_at=None)
    texted = Event.objects.filter(
        conversation__customer_id=customer.pk, channel=Event.Channel.SMS, direction="in"
    )
    if phones.filter(verified_at__isnull=False).exists():
        return {"reachable": True, "message": "Your number is verified: reply by SMS any time."}
    if phones.exists() and texted.exists():
        return {"reachable": True, "message": "We have your number: reply by SMS any time."}
    return {"reachable": False, "message": ""}


class VerificationError(ValueError):
    """Nothing was sent or linked; the message is for the shopper."""


def _code_hash(verification_salt: str, code: str) -> str:
    return salted_hmac(
        "throughline.webchat.phone", f"{verification_salt}:{code}", algorithm="sha256"
    ).hexdigest()


def start_phone_verification(*, site: Site, visitor_id: str, phone: str) -> PhoneVerification:
    """Text a fresh code to `phone` for this visitor; earlier codes of the visitor lapse."""
    from channels_adapters.numbers.senders import message_sender
    from channels_adapters.sms.backends import SmsMessage, get_backend  # the SMS adapter

    try:
        phone = normalize_phone(phone)
    except InvalidIdentity as exc:
        raise VerificationError(str(exc)) from None
    if is_opted_out("phone", phone):
        raise VerificationError("This number asked us to stop texting it; reply START to it first.")
    now = timezone.now()
    recent = PhoneVerification.objects.filter(created_at__gte=now - SEND_WINDOW)
    if recent.filter(visitor_id=visitor_id).count() >= MAX_SENDS_PER_VISITOR:
        raise VerificationError("Too many codes asked for; try again in an hour.")
    if recent.filter(phone=phone).count() >= MAX_SENDS_PER_PHONE:
        raise VerificationError("Too many codes sent to this number; try again in an hour.")
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    with transaction.atomic():
        PhoneVerification.objects.filter(visitor_id=visitor_id, verified_at=None).update(
            expires_at=now
        )
        verification = PhoneVerification.objects.create(
            site=site, visitor_id=visitor_id, phone=phone, code_hash="", expires_at=now + CODE_TTL
        )
        verification.code_hash = _code_hash(str(verification.pk), code)
        verification.save(update_fields=["code_hash"])
    # After commit, outside any transaction: a network call (HOUSE_STYLE 5).
    minutes = int(CODE_TTL.total_seconds() // 60)
    sender = message_sender(None, channel="sms")  # the shop's default number, or the settings'
    message = SmsMessage(
        to=phone,
        body=f"{code} is your {site.name} verification code. It expires in {minutes} minutes.",
        from_number=sender.from_number,
        messaging_service_sid=sender.messaging_service_sid,
        metadata={"phone_verification": verification.pk},
    )
    try:
        get_backend(sender.account).send(message)
    except SendError:
        raise VerificationError("We could not text that number just now; try again.") from None
    return verification


def confirm_phone_verification(
    *, visitor_id: str, code: str, proof: consent.Proof | None = None
) -> Customer:
    """Check the visitor's latest code; on success link its phone (verified) and return the
    customer holding the conversation afterwards.

    Verifying a number is not consent to marketing: only a ticked box (`proof`, the
    disclosure shown beside it, the browser's address and user agent) opts the number in,
    with its proof in the consent ledger, in the same transaction as the link.
    """
    now = timezone.now()
    verification = (
        PhoneVerification.objects.filter(visitor_id=visitor_id, verified_at=None)
        .order_by("-created_at")
        .first()
    )
    if verification is None or verification.expires_at <= now:
        raise VerificationError("This code has expired; ask for a new one.")
    # Count the guess before checking it, in one conditional UPDATE: parallel guesses
    # cannot get past MAX_ATTEMPTS.
    counted = PhoneVerification.objects.filter(
        pk=verification.pk, attempts__lt=MAX_ATTEMPTS, verified_at=None
    ).update(attempts=F("attempts") + 1)
    if not counted:
        raise VerificationError("Too many wrong codes; ask for a new one.")
    given = "".join(ch for ch in str(code) if ch in "0123456789")  # "²" is no digit here
    if not constant_time_compare(_code_hash(str(verification.pk), given), verification.code_hash):
        raise VerificationError("That code is not right; check the text message and try again.")
    with transaction.atomic():
        if not PhoneVerification.objects.filter(pk=verification.pk, verified_at=None).update(
            verified_at=now
        ):
            raise VerificationError("This code was already used.")
        customer = link_identity(
            visitor_customer(visitor_id), "phone", verification.phone, verified=True
        )
        if proof is not None:
            consent.opt_in(
                customer.identities.get(kind="phone", value=verification.phone),
                source="web:continue by sms",
                channel=Event.Channel.WEB,
                direction=Event.Direction.IN,
                body="Ticked the box to receive texts",
                proof=proof,
            )
    return customer
