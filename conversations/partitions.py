"""The journal's partitions (ADR 0009): ranges of event ids, made before the ids arrive.

`conversations_event` is partitioned by range of `id` into partitions of
THROUGHLINE_JOURNAL_PARTITION_SIZE ids, `conversations_event_p<first id>`, plus a default
partition that takes any id no range is ready for, so an append is never refused.
`create_ahead` (the `journal_partitions` command and an hourly beat task) keeps the next
ranges made ahead of the sequence. If ids did reach the default partition (the task did
not run for a long while), they stay there and the next range starts past them:
PostgreSQL refuses a range over rows the default holds, and moving them out would break,
until commit, every foreign key that points at them.

`drop_partitions_before` is the one way events leave the journal: whole partitions,
whose newest event is older than a cutoff (privacy/retention.py calls it when
PRIVACY_EVENT_RETENTION_DAYS is set; by default events are kept and only redacted).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import DatabaseError, OperationalError, connection, models, transaction

from conversations.models import Event, Outbox, ParkedReaction, PendingReaction

logger = logging.getLogger(__name__)

EVENTS = Event._meta.db_table
DEFAULT = f"{EVENTS}_default"
# Partition DDL waits this long for the table's lock, then gives up (and runs next hour:
# ranges are made two ahead) rather than queueing every append behind it. Shorter than
# PostgreSQL's deadlock_timeout (1 s), so when a transaction that holds the journal waits
# for us, we are the one that gives up.
LOCK_TIMEOUT = "500ms"

_BOUND = re.compile(r"FROM \((?:MINVALUE|'?(?P<lower>-?\d+)'?)\) TO \('?(?P<upper>-?\d+)'?\)")


@dataclass(frozen=True)
class Partition:
    name: str
    lower: int | None  # None: from the lowest id (the partition the journal started in)
    upper: int | None  # excluded; None for the default partition

    @property
    def is_default(self) -> bool:
        return self.upper is None


def partitions() -> list[Partition]:
    """The journal's partitions, oldest ids first, the default partition last."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT c.relname, pg_get_expr(c.relpartbound, c.oid)
            FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = %s::regclass""",
            [EVENTS],
        )
        rows = cursor.fetchall()
    found = []
    for name, bound in rows:
        if bound == "DEFAULT":
            found.append(Partition(name, None, None))
            continue
        match = _BOUND.search(bound)
        if match is None:  # not a range made here: leave it out of the reckoning
            logger.warning("journal partition %s has an unexpected bound %s", name, bound)
            continue
        lower = match.group("lower")
        found.append(Partition(name, int(lower) if lower else None, int(match.group("upper"))))
    return sorted(found, key=lambda p: (p.is_default, p.lower if p.lower is not None else -1))


def next_id() -> int:
    """The id the next append will get (without taking it)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [EVENTS])
        (sequence,) = cursor.fetchone()
        cursor.execute(f"SELECT last_value, is_called FROM {sequence}")  # noqa: S608
        last, called = cursor.fetchone()
    return last + 1 if called else last


def create_ahead(*, ahead: int | None = None, size: int | None = None) -> list[str]:
    """Make sure the next `ahead` ranges of `size` ids past the next id have partitions.

    Returns the names of the partitions created."""
    ahead = settings.THROUGHLINE_JOURNAL_PARTITIONS_AHEAD if ahead is None else ahead
    size = settings.THROUGHLINE_JOURNAL_PARTITION_SIZE if size is None else size
    created = []
    while True:
        uppers = [p.upper for p in partitions() if p.upper is not None]  # not the default
        top = max(uppers, default=(next_id() // size) * size)
        if top >= next_id() + ahead * size:
            break
        try:
            created.append(_create(top, size))
        except OperationalError as exc:
            if getattr(exc.__cause__, "sqlstate", "") != "55P03":  # lock_not_available
                raise
            logger.warning("journal partitions: the journal was busy; trying again next run")
            break
    if created:
        logger.info("journal partitions created: %s", ", ".join(created))
    return created


def _create(top: int, size: int) -> str:
    """The range after `top`: [top, the next multiple of size past it).

    When ids went past every range (the task did not run for a while), the default
    partition holds them and PostgreSQL refuses a range over rows the default holds. They
    stay where they are (moving them would break, until commit, every foreign key that
    points at them): the range then starts past the default's newest id.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        # The lock CREATE ... PARTITION OF takes, taken first (never upgraded, so never a
        # deadlock) so no append reaches the default between the look and the range;
        # held for as long as making an empty table takes.
        cursor.execute(f"LOCK TABLE {EVENTS} IN ACCESS EXCLUSIVE MODE")
        cursor.execute(f"SELECT max(id) FROM {DEFAULT} WHERE id >= %s", [top])  # noqa: S608
        (stray,) = cursor.fetchone()
        lower = top if stray is None else stray + 1
        upper = (lower // size + 1) * size
        if stray is not None:
            logger.warning(
                "journal: ids %s to %s arrived before their partition; they stay in %s",
                top,
                stray,
                DEFAULT,
            )
        name = f"{EVENTS}_p{lower}"
        cursor.execute(
            f"CREATE TABLE {name} PARTITION OF {EVENTS} FOR VALUES FROM (%s) TO (%s)",
            [lower, upper],
        )
    return name


# ---------------------------------------------------------------------------- dropping


@dataclass
class Dropped:
    dropped: list[str]
    kept: dict[str, str]  # partition: why it stays


def drop_partitions_before(cutoff: datetime) -> Dropped:
    """Drop every partition whose newest event was recorded before `cutoff`.

    The partition that takes appends (the one holding the next id's range) and the default
    are never dropped. What references the partition's events goes as its model says:
    CASCADE rows are deleted, SET_NULL ones unlinked; the outbox rows of those events
    are deleted once settled (sent or failed); a row that PROTECTs an event (an unsettled
    outbox row, say) keeps the whole partition, and the result says why.
    """
    result = Dropped([], {})
    upcoming = next_id()
    for partition in partitions():
        if partition.upper is None or partition.upper > upcoming:  # the default, or live
            continue
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT recorded_at FROM {partition.name} ORDER BY id DESC LIMIT 1")  # noqa: S608
            newest = cursor.fetchone()
        if newest is not None and newest[0] >= cutoff:
            continue
        try:
            why = _drop(partition)
        except _Kept as kept:
            why = str(kept)
        except DatabaseError as exc:  # a lock not granted in time, a late reference
            why = f"{type(exc).__name__}: {exc}".strip()
        if why:
            result.kept[partition.name] = why
            logger.warning("journal: kept partition %s: %s", partition.name, why)
        else:
            result.dropped.append(partition.name)
            logger.info("journal: dropped partition %s", partition.name)
    return result


class _Kept(Exception):  # not an error: a partition that stays, and why
    pass


def _drop(partition: Partition) -> str:
    """Drop one partition and what hangs on its events; '' if done, else why not."""
    low = partition.lower if partition.lower is not None else -(2**63)
    ids = {"pk__gte": low, "pk__lt": partition.upper}
    with transaction.atomic():
        in_range = Event.objects.filter(**ids).values("pk")
        Outbox.objects.filter(
            event__in=in_range, status__in=[Outbox.Status.SENT, Outbox.Status.FAILED]
        ).delete()
        # the reactions' rows hold event ids, not foreign keys
        PendingReaction.objects.filter(event_id__gte=low, event_id__lt=partition.upper).delete()
        ParkedReaction.objects.filter(event_id__gte=low, event_id__lt=partition.upper).delete()
        for relation in Event._meta.related_objects:
            if not relation.many_to_one and not relation.one_to_one:
                continue
            field = relation.field
            related = relation.related_model
            assert not isinstance(related, str)  # resolved once the apps are loaded
            rows = related._base_manager.filter(**{f"{field.name}__in": in_range})
            if field.remote_field.on_delete is models.CASCADE:
                rows.delete()
            elif field.remote_field.on_delete is models.SET_NULL:
                rows.update(**{field.name: None})
            elif rows.exists():
                # undo what this did (facts deleted, links cleared): the partition stays whole
                label = related._meta.label
                raise _Kept(f"{label}.{field.name} still protects some of its events")
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            cursor.execute(
                f"""DELETE FROM conversations_eventsource s USING {partition.name} e
                WHERE s.channel = e.channel AND s.source_id = e.source_id
                    AND s.event_id = e.id"""  # noqa: S608
            )
            # The rows referencing events were unlinked above, in this transaction; their
            # deferred checks must run before the detach looks.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {EVENTS} DETACH PARTITION {partition.name}")
            cursor.execute(f"DROP TABLE {partition.name}")
    return ""
