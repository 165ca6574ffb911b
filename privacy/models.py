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
