"""Routing's configuration and its own work items (docs/routing.md).

Rules are rows an operator edits in the admin: `IntentRule` (words → intent and team),
`HotRule` (words, a pattern, a cart value → hot), `ContextualAction` (a condition over the
customer context and live presence → an offer, with a cooldown). `ScheduledCallBack` is a
call back the customer chose on their page; a sweep puts it in an agent's inbox when due.
Cases, teams and agents are the conversations app's; routing changes them only through
its verbs (assignment.py, decisions.py), each recording a `routing` event.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone


def validate_words(value) -> None:
    if not isinstance(value, list) or not all(isinstance(w, str) and w.strip() for w in value):
        raise ValidationError('A JSON list of words or phrases, e.g. ["refund", "money back"].')


def validate_pattern(value: str) -> None:
    import re

    try:
        re.compile(value)
    except re.error as exc:
        raise ValidationError(f"Not a regular expression: {exc}.") from None


class IntentRule(models.Model):
    """Words or phrases in an inbound message that say what the customer needs."""

    name = models.CharField(max_length=100)
    phrases = models.JSONField(
        default=list,
        validators=[validate_words],
        help_text='e.g. ["where is my order", "tracking"]',
    )
    intent = models.CharField(max_length=64, help_text='e.g. "order support"')
    team = models.ForeignKey(
        "conversations.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # An agent with this skill is preferred for the case (blank: any agent of the team).
    skill = models.CharField(max_length=64, blank=True)
    # Lower first: the first rule whose phrase matches wins.
    position = models.PositiveSmallIntegerField(default=100)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return f"{self.name} → {self.intent}"


class HotRule(models.Model):
    """What makes a case hot: any of its words, its pattern, or a cart worth at least this."""

    name = models.CharField(max_length=100)
    keywords = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_words],
        help_text='Whole words or phrases, any case: ["cancel", "refund", "lawyer"]',
    )
    pattern = models.CharField(
        max_length=300,
        blank=True,
        validators=[validate_pattern],
        help_text=r"A regular expression over the message, e.g. \bcharged (twice|2x)\b",
    )
    min_cart_value = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="An open cart worth at least this makes the case hot.",
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class ContextualAction(models.Model):
    """An offer made in the moment: when the condition holds over the customer context and
    the customer is present on the channel, propose the action, at most once per cooldown.

    `condition` is a JSON object of context paths to tests, all of which must hold:
    `{"frustration.missed_calls": {"gte": 2}}`, `{"open_cart": {"exists": true}}`.
    """

    class Presence(models.TextChoices):
        WEB = "web", "website widget open"

    class Action(models.TextChoices):
        OFFER_CALL = "offer_call", "offer a call now or a scheduled call back"

    name = models.CharField(max_length=100)
    condition = models.JSONField(default=dict, blank=True)
    presence = models.CharField(max_length=16, choices=Presence.choices, default=Presence.WEB)
    action = models.CharField(max_length=32, choices=Action.choices, default=Action.OFFER_CALL)
    message = models.CharField(
        max_length=300, default="Sorry we missed you — talk to a specialist now?"
    )
    team = models.ForeignKey(
        "conversations.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    skill = models.CharField(max_length=64, blank=True)  # who takes the call, e.g. "treadmills"
    cooldown = models.DurationField(default=timedelta(hours=24))
    priority = models.SmallIntegerField(default=50)  # for the engagement arbiter
    active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from .conditions import ConditionError, check_condition

        try:
            check_condition(self.condition)
        except ConditionError as exc:
            raise ValidationError({"condition": str(exc)}) from None


class ActionTaken(models.Model):
    """One contextual action proposed to one customer: the cooldown reads these."""

    action = models.ForeignKey(ContextualAction, on_delete=models.CASCADE, related_name="taken")
    customer = models.ForeignKey(
        "conversations.Customer", on_delete=models.CASCADE, related_name="+"
    )
    taken_at = models.DateTimeField(default=timezone.now)
    event = models.ForeignKey(
        "conversations.Event", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What the customer chose: "call_now", "schedule", or blank while undecided.
    answer = models.CharField(max_length=16, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["action", "customer", "-taken_at"], name="action_taken_recent_idx")
        ]

    def __str__(self) -> str:
        return f"{self.action} for customer #{self.customer_id} at {self.taken_at:%Y-%m-%d %H:%M}"


class CaseAssignment(models.Model):
    """When routing last gave a case to an agent: the waiting-cases sweep measures the wait
    for the agent's first answer from here, so a reassigned case gets its full time again."""

    case = models.OneToOneField(
        "conversations.Case", on_delete=models.CASCADE, related_name="assignment"
    )
    assigned_at = models.DateTimeField(default=timezone.now, db_index=True)
    reassignments = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"Case #{self.case_id} assigned at {self.assigned_at:%Y-%m-%d %H:%M}"


class ScheduledCallBack(models.Model):
    """A call back the customer booked; `next_action_at` is when the sweep acts on it."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled"  # waiting for its slot
        DUE = "due"  # in the agent's inbox, ready for click-to-call
        CANCELLED = "cancelled"

    customer = models.ForeignKey(
        "conversations.Customer", on_delete=models.PROTECT, related_name="call_backs"
    )
    case = models.ForeignKey(
        "conversations.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="call_backs",
    )
    slot_start = models.DateTimeField()
    time_zone = models.CharField(max_length=64, default="UTC")  # the store's, for display
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SCHEDULED)
    # A stored time the sweep reads (never a countdown task); cleared once acted on.
    next_action_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The sweep's one question, over scheduled rows only: which are due.
            models.Index(
                fields=["next_action_at"],
                condition=Q(status="scheduled"),
                name="call_back_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Call back #{self.pk} at {self.slot_start:%Y-%m-%d %H:%M} UTC ({self.status})"
