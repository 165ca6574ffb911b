"""The reactions' rows (conversations/reactions.py, docs/subsystems/reactions.md).

`PendingReaction` is the hand-over itself: a transactional outbox, one row per recorded
event whose reactions are still to run, written by the statement that records the event
(so in its commit) and deleted by `react` once every reaction of the event ran or was
parked. `ParkedReaction` is one reaction that failed on one event.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone


class PendingReaction(models.Model):
    """An event whose reactions have not all run yet (stream mode).

    The journal's append statements insert it with the event, in the same statement: if
    the event committed, so did this row, whatever became of the Redis stream entry that
    only wakes a `react` process up. Rows live seconds: the table stays small and takes
    no index but its key, so the insert costs the hot path next to nothing.
    """

    # Not a foreign key: the append writes it in the event's own statement, and an erased
    # event must not be held back by it (`react` drops rows whose event is gone).
    event_id = models.BigIntegerField(primary_key=True)
    recorded_at = models.DateTimeField()  # the event's: rows older than a few seconds are caught up
    # A `react` process working on it sets this lease; a dead one's runs out.
    claimed_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"reactions of event #{self.event_id}"


class ParkedReaction(models.Model):
    """A reaction that failed on one event (conversations/reactions.py): retried with
    backoff by the `react` processes, then parked here for a person, with its error.

    The event's hand-over (its PendingReaction) is acknowledged at the first failure, so
    one event never holds up the others; this row is what remains to do. Replay it from
    the admin or with `manage.py replay_parked` once the cause is fixed
    (docs/subsystems/reactions.md).
    """

    class Status(models.TextChoices):
        RETRYING = "retrying"  # a `react` process tries again at next_attempt_at
        PARKED = "parked"  # out of attempts: waits for a person to replay it

    # Not a foreign key: the event may be erased, or be the very row that cannot be read.
    event_id = models.BigIntegerField()
    reaction = models.CharField(max_length=200)  # its dotted path in THROUGHLINE_EVENT_REACTIONS
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RETRYING)
    attempts = models.PositiveSmallIntegerField(default=1)
    error = models.TextField()  # the last exception's class and message; the traceback is logged
    first_failed_at = models.DateTimeField(default=timezone.now)
    last_failed_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(null=True, blank=True)  # null once parked

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["event_id", "reaction"], name="parked_reaction_event_reaction_unique"
            ),
        ]
        indexes = [
            # The retry sweep's one question: which retries are due.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="retrying"),
                name="parked_reaction_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reaction} on event #{self.event_id} ({self.status})"
