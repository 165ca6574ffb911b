"""Personas and the outcomes of suggestions (docs/insights.md).

- `Persona`: a manager's named rule over the customer context ("home gym starter").
  `PersonaMember` holds who matches, refreshed in SQL (personas.py), so every figure can
  be filtered and split by persona with one join.
- `Outcome`: one suggested next action shown to an agent for a customer, whether it was
  taken and what followed (a reply, an order, an opt-out, a hot case). The ranker reads
  these per persona. Nudge rules' outcomes live on engagement's `Nudge` rows.

Rows are written only through the verbs in personas.py and outcomes.py.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from conversations.models import Customer

# The facts a persona rule can test (personas.py turns each into SQL).
FIELDS = {
    "viewed": "viewed the product (SKU)",
    "bought": "bought the product (SKU)",
    "cart_value": "open cart value",
    "orders": "number of orders",
    "channel_used": "wrote or called on the channel (web, sms, voice, email)",
    "scanned_in_store": "scanned a QR code in the store (store id, or any)",
    "days_since_first_contact": "days since first contact",
}
OPERATORS = [">=", "<=", "=", "is"]


class Persona(models.Model):
    name = models.CharField(max_length=100, help_text='e.g. "in-store researchers"')
    slug = models.SlugField(max_length=64, unique=True)
    description = models.TextField(blank=True)
    # Every condition must hold: [{"field": "scanned_in_store", "op": "is", "value": "any"},
    # {"field": "orders", "op": "=", "value": 0}]. Fields and operators: FIELDS, OPERATORS.
    rules = models.JSONField(default=list)
    refreshed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        permissions = [("view_insights", "Can see the insights figures and export them")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from .personas import validate_rules

        validate_rules(self.rules)


class PersonaMember(models.Model):
    persona = models.ForeignKey(Persona, on_delete=models.CASCADE, related_name="members")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["persona", "customer"], name="persona_member_unique")
        ]
        indexes = [models.Index(fields=["customer"], name="persona_member_customer_idx")]

    def __str__(self) -> str:
        return f"customer #{self.customer_id} is {self.persona_id}"


class Outcome(models.Model):
    """One suggestion shown for a customer, and what followed."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    action = models.CharField(max_length=32)  # the suggestion's action: call_back, cart...
    personas = models.JSONField(default=list)  # the customer's persona ids when shown
    shown_at = models.DateTimeField(default=timezone.now)
    taken_at = models.DateTimeField(null=True, blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)
    ordered_at = models.DateTimeField(null=True, blank=True)
    opted_out_at = models.DateTimeField(null=True, blank=True)
    hot_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["customer", "-shown_at"], name="outcome_customer_idx"),
            models.Index(fields=["action"], name="outcome_action_idx"),
            models.Index(
                fields=["customer", "-shown_at"],
                condition=Q(ordered_at__isnull=True),
                name="outcome_open_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} for customer #{self.customer_id}"


# ---- Facts: what the figures aggregate, kept up to date by facts.on_event (an event hook)
# and rebuilt from the journal by facts.rebuild(). They hold no personal data.


class Contact(models.Model):
    """One contact of a case (figures.py says what a contact is)."""

    case = models.ForeignKey("conversations.Case", on_delete=models.CASCADE, related_name="+")
    number = models.PositiveSmallIntegerField()  # 1 for the case's first contact
    channel = models.CharField(max_length=16)
    prev_channel = models.CharField(max_length=16, blank=True)  # the previous contact's
    seq = models.PositiveIntegerField()  # of the event that started it
    started_at = models.DateTimeField()
    last_at = models.DateTimeField()  # the contact's latest inbound event

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "number"], name="contact_case_number_unique")
        ]

    def __str__(self) -> str:
        return f"contact {self.number} of case #{self.case_id} ({self.channel})"


class CaseFact(models.Model):
    """Per case: how many contacts, on which channel it started and ended, and a copy of
    the case's columns the figures filter and measure by (refreshed by every event of the
    case), so a figure reads this one table."""

    case = models.OneToOneField(
        "conversations.Case", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    contacts = models.PositiveSmallIntegerField()
    first_channel = models.CharField(max_length=16)
    last_channel = models.CharField(max_length=16)
    # contacts per channel, {"web": 1, "voice": 1}: the naive per-channel figures
    channel_contacts = models.JSONField(default=dict)
    conversation_id = models.BigIntegerField()
    status = models.CharField(max_length=16)
    intent = models.CharField(max_length=64, blank=True)
    team_id = models.BigIntegerField(null=True)
    opened_at = models.DateTimeField()
    first_response_at = models.DateTimeField(null=True)
    resolved_at = models.DateTimeField(null=True)

    class Meta:
        indexes = [models.Index(fields=["opened_at"], name="casefact_opened_idx")]

    def __str__(self) -> str:
        return f"case #{self.case_id}: {self.contacts} contacts"


class ChannelUsed(models.Model):
    """A channel the customer of a conversation came in on (wrote, called, browsed...)."""

    conversation_id = models.BigIntegerField()
    channel = models.CharField(max_length=16)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["conversation_id", "channel"], name="channel_used_unique"
            )
        ]

    def __str__(self) -> str:
        return f"conversation #{self.conversation_id} on {self.channel}"


class SentMessage(models.Model):
    """An outbound message and whether the customer answered it on the same channel."""

    event = models.OneToOneField(
        "conversations.Event", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    conversation_id = models.BigIntegerField()
    channel = models.CharField(max_length=16)
    sent_at = models.DateTimeField()
    replied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["conversation_id", "channel", "-sent_at"], name="sentmsg_recent_idx"
            ),
            models.Index(fields=["sent_at"], name="sentmsg_sent_idx"),
        ]

    def __str__(self) -> str:
        return f"message #{self.event_id} ({'replied' if self.replied_at else 'no reply'})"


class Journey(models.Model):
    """The touchpoints before an order or a case turning hot, as one path."""

    class End(models.TextChoices):
        ORDER = "order"
        HOT = "hot"

    event = models.OneToOneField(
        "conversations.Event", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    conversation_id = models.BigIntegerField()
    ends_with = models.CharField(max_length=8, choices=End.choices)
    path = models.CharField(max_length=400)
    occurred_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["ends_with", "occurred_at"], name="journey_end_time_idx")]

    def __str__(self) -> str:
        return f"{self.path} → {self.ends_with}"
