"""Customer, Identity, Conversation, Case and Event (DESIGN.md, "The domain").

The invariants live in the database, not only in Python: one conversation per customer,
unique `(kind, value)` identities, one event per `(channel, source_id)` (EventSource, since
the journal is partitioned: ADR 0009), at most one unresolved case per conversation; the
gap-free `(conversation, seq)` is handed out under the conversation's row lock. Rows are written
only through the verbs in journal.py, identities.py and cases.py.
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Customer(models.Model):
    display_name = models.CharField(max_length=200, blank=True)
    # where the name came from ("order:4242", "agent:alice"): conversations/names.py
    # db_default: raw inserts (insights/seed.py, bench/) need not name it
    name_source = models.CharField(max_length=64, blank=True, default="", db_default="")
    traits = models.JSONField(default=dict, blank=True)  # the shop's custom attributes, persona
    locale = models.CharField(max_length=35, blank=True)
    time_zone = models.CharField(max_length=64, blank=True)
    # Set when this customer was merged into another; old references follow it.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_from"
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        # the console panel's words for a customer with no name yet (conversations/names.py)
        return self.display_name or f"Unnamed customer #{self.pk}"


class Identity(models.Model):
    class Kind(models.TextChoices):
        PHONE = "phone"  # E.164
        EMAIL = "email"  # trimmed, lower-cased
        VISITOR = "visitor"  # the widget's visitor id
        EXTERNAL = "external"  # the shop's own customer id
        WHATSAPP = "whatsapp", "WhatsApp"  # E.164, the number's WhatsApp account (its own consent)
        SHORT_CODE = "short_code", "Short code"  # 3-8 ASCII digits: answered by SMS
        ALPHANUMERIC = "alphanumeric"  # a sender id such as "MyBank": cannot receive replies

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="identities")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    value = models.CharField(max_length=254)
    verified_at = models.DateTimeField(null=True, blank=True)
    # Consent (phones and emails): STOP sets opted_out_at; START clears it.
    opted_out_at = models.DateTimeField(null=True, blank=True)
    consented_at = models.DateTimeField(null=True, blank=True)
    consent_source = models.CharField(max_length=64, blank=True)  # e.g. "sms:STOP", "widget"
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "identities"
        constraints = [
            models.UniqueConstraint(fields=["kind", "value"], name="identity_kind_value_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class Conversation(models.Model):
    """The one persistent conversation of a customer, with the summary the inbox reads."""

    class Status(models.TextChoices):
        OPEN = "open"  # a case is open
        IDLE = "idle"  # nothing waiting on the shop
        MERGED = "merged"  # its customer was merged; the events moved to the survivor

    customer = models.OneToOneField(Customer, on_delete=models.PROTECT, related_name="conversation")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.IDLE)
    priority = models.SmallIntegerField(default=0)  # mirrors the current case: hot cases first
    # The last seq handed out; the next event gets last_seq + 1 under the row lock.
    last_seq = models.PositiveIntegerField(default=0)
    last_event_at = models.DateTimeField(null=True, blank=True)
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    last_outbound_at = models.DateTimeField(null=True, blank=True)
    last_channel = models.CharField(max_length=16, blank=True)  # where the customer last spoke
    unread_count = models.PositiveIntegerField(default=0)
    current_case = models.ForeignKey(
        "Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            # The inbox: open conversations, hot first, longest waiting first.
            models.Index(
                fields=["status", "-priority", "last_inbound_at"], name="conversation_inbox_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"Conversation with {self.customer}"


class Case(models.Model):
    """The agent's unit of work inside the persistent conversation."""

    class Status(models.TextChoices):
        OPEN = "open"
        PENDING = "pending"
        SNOOZED = "snoozed"
        RESOLVED = "resolved"

    class Priority(models.IntegerChoices):
        NORMAL = 0
        HOT = 10

    conversation = models.ForeignKey(Conversation, on_delete=models.PROTECT, related_name="cases")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    priority = models.SmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    intent = models.CharField(max_length=64, blank=True)
    team = models.ForeignKey(
        "Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="cases"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cases",
    )
    opened_at = models.DateTimeField(default=timezone.now)
    first_response_at = models.DateTimeField(null=True, blank=True)
    # Snoozed cases leave the inbox until then; a sweep wakes them (never a countdown).
    snoozed_until = models.DateTimeField(null=True, blank=True)
    # When it was snoozed: a customer message after it brings the case back at once.
    snoozed_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(
        max_length=32, blank=True
    )  # e.g. "merged" when folded into another

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["conversation"],
                condition=~Q(status="resolved"),
                name="one_unresolved_case_per_conversation",
            ),
        ]

    def __str__(self) -> str:
        return f"Case #{self.pk} ({self.status})"


class Event(models.Model):
    """One entry of the append-only journal.

    The table is partitioned by range of `id` (ADR 0009, conversations/partitions.py):
    ids grow with time, so each partition is a slice of the journal's history, appends
    write the newest one, and a lookup by id reads one. A unique index of a partitioned
    table must hold the partition key, so the two uniquenesses the journal had are kept
    elsewhere: `(channel, source_id)` by `EventSource`, one row per sourced event, kept by
    the database's own triggers (migration 0016); `(conversation, seq)` by the
    conversation row lock every append takes to hand out `last_seq + 1`.
    """

    class Channel(models.TextChoices):
        WEB = "web"
        SMS = "sms"
        WHATSAPP = "whatsapp", "WhatsApp"  # recorded; not sent on (docs/twilio.md)
        VOICE = "voice"
        EMAIL = "email"  # channels_adapters/email (docs/email.md)
        INSTORE = "instore"
        API = "api"
        SYSTEM = "system"
        AGENT = "agent"

    class Direction(models.TextChoices):
        IN = "in"
        OUT = "out"
        INTERNAL = "internal"

    # No index of its own: (conversation, seq) below serves every lookup by conversation,
    # and each index an append writes costs every webhook.
    conversation = models.ForeignKey(
        Conversation, on_delete=models.PROTECT, related_name="events", db_index=False
    )
    seq = models.PositiveIntegerField()
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    direction = models.CharField(max_length=16, choices=Direction.choices)
    kind = models.CharField(max_length=32)  # message, call, scan, page_view, cart, order, note, ...
    body = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField(default=timezone.now)
    recorded_at = models.DateTimeField(default=timezone.now)
    # The provider's id (MessageSid, CallSid, ...): a repeated webhook finds it and writes nothing.
    # NULL rather than "" so EventSource (the global unique key) skips events that have none.
    source_id = models.CharField(max_length=128, null=True, blank=True)  # noqa: DJ001
    delivery_status = models.CharField(max_length=32, blank=True)  # outbound messages
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # the partial index below: most events have no author
    )

    class Meta:
        indexes = [
            # Deleting a user nulls their events' author; inbound events (most of them)
            # have none and stay out of the index.
            models.Index(
                fields=["author"], condition=Q(author__isnull=False), name="event_author_idx"
            ),
            # The timeline (conversation, seq), in each partition. Not unique: a unique
            # index must hold the partition key. Seqs stay gap-free and distinct because
            # they are handed out under the conversation's row lock (journal.py), and a
            # merge renumbers a whole timeline in one UPDATE.
            models.Index(fields=["conversation", "seq"], name="event_conversation_seq_idx"),
            # Finds a provider id's event (webhook repeats, status callbacks); the
            # uniqueness itself is EventSource's, global across partitions.
            models.Index(
                fields=["channel", "source_id"],
                condition=Q(source_id__isnull=False),
                name="event_channel_source_id_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.channel}/{self.direction}/{self.kind}"


class EventSource(models.Model):
    """One provider id of the journal: global idempotency on `(channel, source_id)`.

    The events table is partitioned by id, where no unique index can span partitions
    without holding the id; this small unpartitioned table holds the key instead. Nobody
    writes it from Python: triggers on the events table (migration 0016) insert a row with
    every event that has a source id, in the same statement, so a repeat fails that
    statement with a unique violation exactly as the old unique index did, and update or
    delete it when an event's source id is set later (delivery receipts) or cleared
    (erasure).
    """

    pk = models.CompositePrimaryKey("channel", "source_id")
    channel = models.CharField(max_length=16)
    source_id = models.CharField(max_length=128)
    # Not a foreign key: checking it would read the events table on every sourced append.
    event_id = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.channel}:{self.source_id} -> event #{self.event_id}"


class Outbox(models.Model):
    """One outbound message on its way to a provider (conversations/outbox.py, docs/twilio.md).

    Written in the same transaction as its outbound `message` event, then delivered by a
    worker outside any transaction. The status says what we know, so a crashed or repeated
    worker never sends twice and nothing is lost:

        pending --claim--> sending --provider accepted--> sent
                              |----permanent error-----> failed
                              |----transient error-----> pending (next_attempt_at later)
                              '----unknown outcome-----> reconcile (never resent blindly)
    """

    class Status(models.TextChoices):
        PENDING = "pending"  # waiting for its first attempt or, after an error, next_attempt_at
        SENDING = "sending"  # a worker claimed it and is talking to the provider
        SENT = "sent"  # the provider accepted it (provider_id); delivery status is on the event
        FAILED = "failed"  # will never be sent; last_error says why
        RECONCILE = "reconcile"  # it may or may not have gone out: a person or a callback decides

    channel = models.CharField(max_length=16)
    event = models.OneToOneField(Event, on_delete=models.PROTECT, related_name="outbox")
    to_address = models.CharField(max_length=254)  # an E.164 phone for SMS
    from_address = models.CharField(max_length=254, blank=True)  # blank: the default sender
    body = models.TextField(blank=True)
    media_urls = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    # When the sweep should (re)try a pending row: a stored time, never a long task countdown.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)  # set with status sending
    provider_id = models.CharField(max_length=128, blank=True)  # Twilio's MessageSid
    error_code = models.CharField(max_length=32, blank=True)
    last_error = models.TextField(blank=True)  # written for agents: never a phone number or body
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "outbox"
        indexes = [
            # The sweep's two questions, over due work only: which pending rows are due, and
            # which sending rows have been claimed for too long (their worker died).
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="outbox_due_idx",
            ),
            models.Index(
                fields=["claimed_at"],
                condition=Q(status="sending"),
                name="outbox_stale_claim_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Outbox #{self.pk} ({self.channel}, {self.status})"


class Team(models.Model):
    """A group of agents that routing sends a kind of need to (sales, support…)."""

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=100)
    # A reply is due within this long; an inbound message waiting longer is a frustration
    # signal and makes the case hot.
    response_target = models.DurationField(default=timedelta(minutes=15))

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AgentProfile(models.Model):
    """What routing needs to know of an agent: their teams and skills, how many open cases
    they can hold, whether they are on call, where to ring them, and whether to."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent_profile"
    )
    phone = models.CharField(
        max_length=32, blank=True, help_text="E.164, such as +14155550100: calls ring it"
    )
    # Off: no call is routed to this agent (voicemail takes it when nobody is available).
    available = models.BooleanField(default=False)
    teams = models.ManyToManyField(Team, blank=True, related_name="agents")
    skills = models.JSONField(
        default=list, blank=True, help_text='What they know, e.g. ["treadmills", "returns"]'
    )
    # Assignment never gives an agent more open cases than this.
    capacity = models.PositiveSmallIntegerField(default=5)
    # On-call agents are paged by SMS when a case of their team turns hot.
    on_call = models.BooleanField(default=False)
    # When a call was last routed to them: the next call tries whoever waited longest.
    last_routed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        indexes = [models.Index(fields=["available"], name="agentprofile_available_idx")]

    def __str__(self) -> str:
        return f"Agent profile of {self.user}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from conversations.identities import (  # identities imports models
            InvalidIdentity,
            normalize_phone,
        )

        if self.phone:
            try:
                if normalize_phone(self.phone) != self.phone:
                    raise ValidationError({"phone": "Write the number in E.164 (+14155550100)."})
            except InvalidIdentity as exc:
                raise ValidationError({"phone": str(exc)}) from None


class CannedResponse(models.Model):
    """A saved reply agents insert from the reply box (docs/console.md, "Canned responses").

    The body may name context variables in braces, filled in for the customer at hand:
    {first_name}, {name}, {agent}, {cart_value}, {product}, {store}. An unknown name stays
    as written, so a typo shows rather than vanishing.
    """

    shortcut = models.SlugField(max_length=40, unique=True, help_text="Type /shortcut to insert")
    title = models.CharField(max_length=100)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["shortcut"]

    def __str__(self) -> str:
        return f"/{self.shortcut}: {self.title}"


# The reactions' own rows (conversations/reactions.py), in a module of their own.
from conversations.models_reactions import ParkedReaction, PendingReaction  # noqa: E402, F401


class Merge(models.Model):
    """One merge of two customers, what it moved and whether it was split again
    (conversations/merges.py, docs/subsystems/identities.md "Provenance").

    Events are named by id, not by foreign key: the events table may be partitioned.
    """

    survivor = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="merges_kept")
    merged = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="merges_folded")
    reason = models.CharField(max_length=200, blank=True)
    merged_at = models.DateTimeField(default=timezone.now)
    merge_event_id = models.BigIntegerField(null=True, blank=True)
    # Both customers' own fields and both conversations' summaries as they were before.
    before = models.JSONField(default=dict, blank=True)
    unmerged_at = models.DateTimeField(null=True, blank=True)
    unmerged_by = models.CharField(max_length=200, blank=True)  # "console:alice", "api:tl_ab12"
    split_event_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["survivor", "merged"], name="merge_pair_idx"),
            models.Index(fields=["merged"], name="merge_merged_idx"),
        ]

    def __str__(self) -> str:
        return f"Merge #{self.pk}: #{self.merged_id} into #{self.survivor_id}"


class MergeMove(models.Model):
    """One row a merge moved or changed, written by the same statement that moved it.

    - moved: `column_name` went from `from_value` (a customer or conversation id) to the
      survivor's; events also keep their `old_position` (seq);
    - renumbered: a survivor's event whose seq the merge changed (`old_position`);
    - changed: columns the merge set (`before` the old values, `after` the new);
    - removed: a row the merge deleted (`before` is the whole row);
    - added: a row the merge inserted (`after`).
    """

    class Action(models.TextChoices):
        MOVED = "moved"
        RENUMBERED = "renumbered"
        CHANGED = "changed"
        REMOVED = "removed"
        ADDED = "added"

    merge = models.ForeignKey(Merge, on_delete=models.CASCADE, related_name="moves")
    table_name = models.CharField(max_length=63)
    row_id = models.BigIntegerField()
    action = models.CharField(max_length=16, choices=Action.choices)
    column_name = models.CharField(max_length=63, blank=True)
    from_customer = models.BigIntegerField(null=True, blank=True)
    from_value = models.BigIntegerField(null=True, blank=True)
    old_position = models.PositiveIntegerField(null=True, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["merge", "table_name", "row_id", "action"], name="merge_move_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.table_name} #{self.row_id}"


class PossibleDuplicate(models.Model):
    """Two live customers that look like one person but were not merged automatically,
    with the evidence, for an agent to confirm (merge) or dismiss (conversations/duplicates.py).

    The pair is stored lower id first, so it is found whichever way round it is seen; a
    dismissed pair stays dismissed whatever new evidence arrives.
    """

    class Status(models.TextChoices):
        OPEN = "open"
        CONFIRMED = "confirmed"
        DISMISSED = "dismissed"

    first = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    second = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    evidence = models.JSONField(default=list, blank=True)  # [{"signal": ..., "detail": ...}]
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    found_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["first", "second"], name="possible_duplicate_pair"),
            models.CheckConstraint(
                condition=Q(first__lt=models.F("second")), name="possible_duplicate_ordered"
            ),
        ]
        indexes = [
            models.Index(
                fields=["found_at"], condition=Q(status="open"), name="possible_duplicate_open_idx"
            ),
            models.Index(fields=["second"], name="possible_duplicate_second_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.first_id} and #{self.second_id} ({self.status})"
