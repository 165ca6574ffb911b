"""`TwilioAccount` and `MessagingNumber` (docs/twilio.md, "Several numbers and accounts").

An account holds no secret: it says where its auth token is read from, an environment
variable (or the file its `<NAME>_FILE` names, as every setting) or a key of the JSON
secrets file TWILIO_SECRETS_FILE. A number (or a Messaging Service) belongs to one account
and to the shop (no store) or one store; exactly one may be the shop's default sender.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from conversations.identities import InvalidIdentity, normalize_phone, normalize_short_code

_ACCOUNT_SID = re.compile(r"AC[0-9a-f]{32}")
_SERVICE_SID = re.compile(r"MG[0-9a-f]{32}")
_SHORT_CODE = re.compile(r"[0-9]{3,8}")
_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]{0,99}")


def validate_account_sid(value: str) -> None:
    if not _ACCOUNT_SID.fullmatch(value):
        raise ValidationError("An account SID is AC followed by 32 lower-case hex digits.")


def validate_service_sid(value: str) -> None:
    if value and not _SERVICE_SID.fullmatch(value):
        raise ValidationError("A Messaging Service SID is MG followed by 32 lower-case hex digits.")


def validate_env_name(value: str) -> None:
    if value and not _ENV_NAME.fullmatch(value):
        raise ValidationError(
            "The name of an environment variable, such as TWILIO_AUTH_TOKEN_BRAND_B "
            "(capitals, digits and _), not the token itself."
        )


def validate_address(value: str) -> None:
    """E.164 (+14155550100) or a short code (12345); blank for a Messaging Service."""
    if not value:
        return
    try:
        short = _SHORT_CODE.fullmatch(value)
        normalized = normalize_short_code(value) if short else normalize_phone(value)
    except InvalidIdentity as exc:
        raise ValidationError(str(exc)) from None
    if normalized != value:
        raise ValidationError("Write the number in E.164, such as +14155550100.")


class TwilioAccount(models.Model):
    """A Twilio account or subaccount; its auth token stays outside the database."""

    label = models.CharField(max_length=100, help_text='e.g. "Brand B" or "Main account"')
    account_sid = models.CharField(
        "account SID", max_length=34, unique=True, validators=[validate_account_sid]
    )
    auth_token_env = models.CharField(
        "auth token: environment variable",
        max_length=100,
        blank=True,
        validators=[validate_env_name],
        help_text="The NAME of the variable holding the token (or NAME_FILE, a file holding "
        "it), such as TWILIO_AUTH_TOKEN. Never the token itself.",
    )
    auth_token_key = models.CharField(
        "auth token: secrets-file key",
        max_length=100,
        blank=True,
        help_text="Or: the key of the token in the JSON file TWILIO_SECRETS_FILE names.",
    )
    active = models.BooleanField(
        default=True, help_text="Off: its webhooks are refused and nothing is sent through it."
    )

    class Meta:
        constraints = [
            # exactly one place the token comes from
            models.CheckConstraint(
                condition=(Q(auth_token_env="") & ~Q(auth_token_key=""))
                | (~Q(auth_token_env="") & Q(auth_token_key="")),
                name="twilioaccount_one_token_source",
            )
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.account_sid[:6]}…)"

    def clean(self) -> None:
        if bool(self.auth_token_env) == bool(self.auth_token_key):
            raise ValidationError(
                "Name where the auth token comes from: an environment variable or a "
                "secrets-file key (one of them)."
            )


class MessagingNumber(models.Model):
    """One of our numbers (or a Messaging Service): whose it is, what it can do."""

    account = models.ForeignKey(TwilioAccount, on_delete=models.PROTECT, related_name="numbers")
    # No store: the shop's own (a brand's central number).
    store = models.ForeignKey(
        "instore.Store",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="messaging_numbers",
    )
    phone_number = models.CharField(
        max_length=32,
        blank=True,
        validators=[validate_address],
        help_text="E.164, such as +14155550100, or a short code. Blank for a Messaging "
        "Service that sends from its own pool.",
    )
    messaging_service_sid = models.CharField(
        "Messaging Service SID",
        max_length=34,
        blank=True,
        validators=[validate_service_sid],
        help_text="Set: texts go out through this service (its pool picks the number).",
    )
    sms = models.BooleanField("SMS", default=True)
    voice = models.BooleanField(default=True)
    whatsapp = models.BooleanField("WhatsApp", default=False)
    is_default = models.BooleanField(
        "shop's default sender",
        default=False,
        help_text="Texts and calls to a customer who never wrote to another number go out "
        "from this one. One number at most.",
    )
    active = models.BooleanField(
        default=True, help_text="Off: its webhooks are refused and nothing goes out from it."
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(phone_number="") | ~Q(messaging_service_sid=""),
                name="messagingnumber_has_address",
            ),
            models.UniqueConstraint(
                fields=["phone_number"],
                condition=~Q(phone_number=""),
                name="messagingnumber_unique_phone",
            ),
            models.UniqueConstraint(
                fields=["messaging_service_sid"],
                condition=~Q(messaging_service_sid="") & Q(phone_number=""),
                name="messagingnumber_unique_service",
            ),
            models.UniqueConstraint(
                fields=["is_default"],
                condition=Q(is_default=True),
                name="messagingnumber_one_default",
            ),
        ]

    def __str__(self) -> str:
        where = self.store.name if self.store_id else "shop"
        return f"{self.phone_number or self.messaging_service_sid} ({where})"

    def clean(self) -> None:
        if not (self.phone_number or self.messaging_service_sid):
            raise ValidationError("Give the number, a Messaging Service SID, or both.")


class NumberConsent(models.Model):
    """Which of our numbers a STOP or START was sent to (an opt-out follows the number it
    was sent to): written by the consent hook (optouts.py) beside the `consent` event.

    Plain ids, no foreign keys to the journal: erasure deletes events and identities in
    bulk, and its hook (optouts.erase) deletes these rows first.
    """

    number = models.ForeignKey(MessagingNumber, on_delete=models.CASCADE, related_name="+")
    identity_id = models.BigIntegerField()
    event_id = models.BigIntegerField(unique=True)
    action = models.CharField(max_length=16)  # opt_out or opt_in, as the consent event says
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["identity_id", "at"], name="numberconsent_identity_idx")]

    def __str__(self) -> str:
        return f"{self.action} to number #{self.number_id} (event #{self.event_id})"
