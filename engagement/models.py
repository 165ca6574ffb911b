"""Rules, what they watch, and every proposal with its decision (docs/engagement.md).

- `RuleConfig` / `RuleStep`: what the admin configures per rule (on/off, priority, channel
  preference, threshold, the steps' delays and message templates).
- `Watch`: one row per thing a rule keeps an eye on (a cart, a product being evaluated, an
  order awaiting delivery) with `next_action_at`, the time it must be looked at again. The
  sweeps read due watches through a partial index, so their cost follows due work.
- `Nudge`: one row per proposal and the arbiter's decision on it, with attribution.

Rows are written only through the verbs in arbiter.py, watches.py and attribution.py.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from conversations.models import Customer, Event, Outbox

TOPICS = [
    ("cart_reminders", "Cart reminders"),
    ("offers", "Offers"),
    ("service_followups", "Service follow-ups"),
    ("order_updates", "Order updates"),
]


class RuleConfig(models.Model):
    """How one rule behaves; created with the rule's defaults the first time it is read."""

    slug = models.SlugField(max_length=64, unique=True)
    enabled = models.BooleanField(default=True)
    # When several nudges are due for one customer at once, the highest priority is sent
    # and the others are suppressed ("outranked").
    priority = models.SmallIntegerField(default=0)
    channels = models.CharField(
        max_length=64,
        default="sms,web",
        help_text='Channels to try, best first, comma-separated: "sms", "web" (never voice).',
    )
    min_value = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Cart rules: only carts worth at least this much (in the cart's currency).",
    )
    params = models.JSONField(
        default=dict, blank=True, help_text="Rule-specific thresholds (docs/engagement.md)."
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-priority", "slug"]
        verbose_name = "rule"

    def __str__(self) -> str:
        return self.slug

    def channel_list(self) -> tuple[str, ...]:
        return tuple(c.strip() for c in self.channels.split(",") if c.strip())


class RuleStep(models.Model):
    """One message of a rule's sequence: sent `delay_minutes` after the trigger."""

    rule = models.ForeignKey(RuleConfig, on_delete=models.CASCADE, related_name="steps")
    number = models.PositiveSmallIntegerField()
    delay_minutes = models.PositiveIntegerField(
        default=0,
        help_text="After the trigger; for carts, step 1 after the cart's last change and "
        "later steps after the previous step (or a later change).",
    )
    template = models.TextField(
        help_text="A Django template rendered with the customer context (docs/engagement.md)."
    )

    class Meta:
        ordering = ["rule", "number"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "number"], name="rulestep_rule_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.rule.slug} step {self.number}"


class Watch(models.Model):
    """Something a rule watches, and when to look at it again (NULL: not until it changes)."""

    rule = models.SlugField(max_length=64)
    subject = models.CharField(max_length=128)  # "cart:12", "interest:7:SKU-1", "order:9"
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    step = models.PositiveSmallIntegerField(default=0)  # the last step proposed
    next_action_at = models.DateTimeField(null=True, blank=True)
    # Why it stopped for good ("ordered", "replied", "opted out"...); blank while it can run.
    closed_reason = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "watches"  # the admin index would say "Watchs"
        constraints = [
            models.UniqueConstraint(fields=["rule", "subject"], name="watch_rule_subject_unique")
        ]
        indexes = [
            # The sweep's only question: what is due. Watches that wait for nothing are NULL
            # and stay out of the index.
            models.Index(
                fields=["next_action_at"],
                condition=Q(next_action_at__isnull=False),
                name="watch_due_idx",
            ),
            models.Index(fields=["customer", "rule"], name="watch_customer_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.rule} {self.subject}"


class Nudge(models.Model):
    """One proposal of a rule and the arbiter's decision (docs/engagement.md, "Nudges").

    waiting --decide--> sent        (a message event; an outbox row for SMS)
       |      '-------> suppressed  (reason says why; "expired" past expires_at)
       '--quiet hours--> waiting with next_action_at = the next allowed time
    sent --the send attempt finds it expired (engagement/attempts.py)--> suppressed
    """

    class Status(models.TextChoices):
        WAITING = "waiting"
        SENT = "sent"
        SUPPRESSED = "suppressed"

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="nudges")
    rule = models.SlugField(max_length=64)
    step = models.PositiveSmallIntegerField(default=1)
    # One message per rule step per cart (or call, order...): the rule builds the key.
    dedupe_key = models.CharField(max_length=200, unique=True)
    topic = models.CharField(max_length=32, choices=TOPICS)
    channels = models.JSONField(default=list)  # the channels the rule allows, best first
    channel = models.CharField(max_length=16, blank=True)  # "sms" or "web" once sent
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.WAITING)
    reason = models.CharField(max_length=300, blank=True)  # why suppressed, or why waiting
    priority = models.SmallIntegerField(default=0)
    body = models.TextField()
    data = models.JSONField(default=dict, blank=True)
    proposed_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField()
    # When the sweep decides it: due_at, or later when quiet hours postponed it. NULL once
    # decided, so decided nudges leave the sweep's index.
    next_action_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    # After this it is no longer worth sending (the rule's `worth_sending` after due_at): a
    # decision or a send attempt that comes later drops it. NULL: no end.
    expires_at = models.DateTimeField(null=True, blank=True)
    outbox = models.ForeignKey(
        Outbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message = models.ForeignKey(  # the outbound message event, when sent
        Event, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    event = models.ForeignKey(  # the internal `nudge` event recording the decision
        Event, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Attribution: what followed a sent nudge within ENGAGEMENT_ATTRIBUTION_DAYS.
    replied_at = models.DateTimeField(null=True, blank=True)
    ordered_at = models.DateTimeField(null=True, blank=True)
    opted_out_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["next_action_at"],
                condition=Q(status="waiting"),
                name="nudge_due_idx",
            ),
            # Frequency caps and attribution: a customer's sent nudges, newest first.
            models.Index(
                fields=["customer", "-decided_at"],
                condition=Q(status="sent"),
                name="nudge_sent_idx",
            ),
            models.Index(fields=["customer", "status"], name="nudge_customer_status_idx"),
            models.Index(fields=["proposed_at"], name="nudge_proposed_idx"),  # insights
        ]

    def __str__(self) -> str:
        return f"Nudge #{self.pk} {self.rule}/{self.step} ({self.status})"
