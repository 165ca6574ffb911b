"""The customer's control of their data (docs/privacy.md): what they chose to receive,
and the record of every erasure.

Rows are written only through the verbs in preferences.py and erasure.py.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from conversations.models import Customer

# What proactive messages are about (engagement's nudge topics), in the page's order.
TOPICS = {
    "order_updates": "Order updates",
    "cart_reminders": "Cart reminders",
    "offers": "Offers",
    "service_followups": "Service follow-ups",
}
# The channels a customer can choose per topic.
CHANNELS = {"sms": "Text messages", "web": "Chat on the website"}


class Preference(models.Model):
    """One choice of a customer: this topic on this channel, on or off.

    No row means the default: allowed (STOP, per identity, still stops everything).
    """

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="preferences")
    topic = models.CharField(max_length=32, choices=list(TOPICS.items()))
    channel = models.CharField(max_length=16, choices=list(CHANNELS.items()))
    allowed = models.BooleanField(default=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "topic", "channel"], name="preference_customer_topic_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.topic}/{self.channel}: {'on' if self.allowed else 'off'}"


class Erasure(models.Model):
    """Who erased whom, when, and what it did. It names the customer by id only."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="erasures")
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    erased_at = models.DateTimeField(default=timezone.now)
    # Counts per table and the provider deletions asked for (ids, never personal values).
    report = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-erased_at"]

    def __str__(self) -> str:
        return f"Erasure of customer #{self.customer_id} at {self.erased_at:%Y-%m-%d %H:%M}"


class CustomerRecord(Customer):
    """The admin's door to export and erasure: a proxy of Customer with its own permissions,
    so only managers who hold them see the page (agents keep the ordinary customer pages)."""

    class Meta:
        proxy = True
        verbose_name = "customer data (export, erasure)"
        verbose_name_plural = "customer data (export, erasure)"
        permissions = [
            ("export_customer", "Can export everything held about a customer"),
            ("erase_customer", "Can erase a customer's personal data"),
        ]


class ConsentRecord(models.Model):
    """One line of the consent ledger: a grant or a withdrawal of consent, with its proof.

    Append-only: written by privacy/ledger.py from every consent statement, never changed
    (an erasure blanks the address, client address and user agent, keeping the rest: see
    docs/privacy.md). What a dispute needs: when (`occurred_at`), where (`source`,
    `channel`, `ip`, `user_agent`), and the exact words shown or received (`words`,
    `text_version`).
    """

    class Action(models.TextChoices):
        GRANTED = "granted"
        REVOKED = "revoked"
        FLAGGED = "flagged", "possible revocation (an agent decides)"
        DISMISSED = "dismissed", "not a revocation (an agent decided)"

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="consent_records")
    action = models.CharField(max_length=16, choices=Action.choices)
    topic = models.CharField(max_length=32, blank=True)  # blank: every topic
    channel = models.CharField(max_length=16, blank=True)  # blank: every channel
    address_kind = models.CharField(max_length=16, blank=True)
    address = models.CharField(max_length=320, blank=True)  # the phone or email, or blank
    source = models.CharField(max_length=100)  # "sms:STOP", "web:continue-by-sms", ...
    words = models.TextField(blank=True)  # exactly what was shown or received
    text_version = models.CharField(max_length=64, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # the timeline's `consent` event it came with (the journal is the other half of the proof)
    event_id = models.BigIntegerField(null=True, blank=True)
    # a dismissal points at the flag it resolves
    resolves = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="resolved_by"
    )

    class Meta:
        ordering = ["occurred_at", "pk"]
        indexes = [
            # the gate's one read: the customer's latest statement for a channel
            models.Index(fields=["customer", "channel", "-occurred_at"], name="consentrecord_gate"),
            models.Index(fields=["address_kind", "address"], name="consentrecord_address"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.topic or 'all topics'} by {self.channel or 'any channel'}"


class Suppression(models.Model):
    """An erased address that had said stop: its keyed hash and when it opted out, nothing
    else (docs/privacy.md, "The suppression list"). A new contact from that address starts
    opted out; an opt-in (START, a ticked consent box) removes the row."""

    kind = models.CharField(max_length=16)  # "phone", "email", ...
    digest = models.CharField(max_length=64)  # HMAC-SHA256 of the value, hex
    opted_out_at = models.DateTimeField()
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "digest"], name="suppression_kind_digest"),
        ]

    def __str__(self) -> str:
        return f"suppressed {self.kind} since {self.opted_out_at:%Y-%m-%d}"
