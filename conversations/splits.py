"""The split that undoes a merge (docs/subsystems/identities.md), from the provenance
`conversations.merges` records.

`unmerge(merge, by=…)` reads it back: every moved row returns to the customer (or
conversation) it came from, events to their old seq; rows the merge changed, removed or
added are put back; rows created after the merge stay with the survivor unless listed,
or unless an app's THROUGHLINE_SPLIT_HOOKS sends them after the identity they follow.
It takes the merge lock as a merge does, so merges and splits never interleave.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from base import plugins
from conversations import journal
from conversations.broadcast import broadcast_resync_on_commit
from conversations.locks import merges_serialised
from conversations.merges import (
    _PARKED,
    EVENTS,
    MOVES,
    NotSplittable,
    _pk,
    _q,
    customer_tree,
)
from conversations.models import Case, Conversation, Customer, Event, Merge, MergeMove


def unmerge(merge: Merge, *, by: str, move_events: Iterable[int] = ()) -> Customer:
    """Split a merge exactly: what came from the merged customer goes back to it.

    Rows the merge moved return to where they came from (events to their old seq), rows
    it changed, removed or added are put back as they were (a row changed again since
    keeps its new values), and the survivor's timeline gets its old order back when no
    later merge renumbered it (otherwise its order is kept and its gaps closed). Events
    recorded after the merge stay with the survivor unless their ids are in `move_events`.
    Both timelines record the split; both conversations' sockets resync after commit.

    Works for a survivor merged again since (rows return from wherever the survivor's
    history now is). A repeated or concurrent unmerge of the same merge is a no-op.
    Returns the customer split off (the merge's `merged`).
    """
    move_events = sorted(set(move_events))
    with transaction.atomic():
        merges_serialised()
        merge = Merge.objects.select_for_update(no_key=True).get(pk=merge.pk)
        if merge.unmerged_at is not None:
            return merge.merged
        split = Customer.objects.select_for_update(no_key=True).get(pk=merge.merged_id)
        holder = _live(merge.survivor_id)
        Customer.objects.select_for_update(no_key=True).filter(pk=holder.pk).get()
        split_conv = Conversation.objects.select_for_update(no_key=True).get(customer=split)
        holder_conv = Conversation.objects.select_for_update(no_key=True).get(customer=holder)

        # Where the merged rows can be now: the holder's tree, less what hangs off `split`.
        customers = sorted(set(customer_tree(holder.pk)) - set(customer_tree(split.pk)))
        conversations = list(
            Conversation.objects.filter(customer_id__in=customers).values_list("pk", flat=True)
        )
        exact = holder.pk == merge.survivor_id and not _merged_since(merge, holder.pk)
        unread_listed = _move_back(merge, customers, conversations, split_conv, move_events)
        _renumber_after_split(merge, holder_conv, exact=exact)
        _renumber_after_split(merge, split_conv, exact=False)
        _restore_rows(merge)
        for hook in plugins.enabled("split_hooks"):
            # rows that follow an identity (instore's scans follow their visitor id), made
            # after the merge, go with it: the provenance knows only what the merge moved
            hook(holder=holder, split=split)
        _rehome_cases(holder_conv, split_conv)
        _rehome_cases(split_conv, holder_conv)

        Customer.objects.filter(pk=split.pk).update(merged_into=None)
        _restore_survivor_fields(merge)
        gone_before = merge.before.get("gone", {})
        _restore_summary(split_conv, start=gone_before, since=merge.merge_event_id)
        split_conv.unread_count = (gone_before.get("unread_count") or 0) + unread_listed
        split_conv.save()
        current_unread = holder_conv.unread_count
        _restore_summary(
            holder_conv,
            start=merge.before.get("keep", {}) if exact else None,
            since=merge.merge_event_id if exact else None,
        )
        holder_conv.unread_count = max(
            0, current_unread - (gone_before.get("unread_count") or 0) - unread_listed
        )
        holder_conv.save()

        data = {"merge": merge.pk, "by": by, "merged_at": merge.merged_at.isoformat()}
        journal.record(
            customer=split,
            channel=Event.Channel.SYSTEM,
            direction=Event.Direction.INTERNAL,
            kind="split",
            body=f"Split from customer #{merge.survivor_id} (merged {merge.merged_at:%Y-%m-%d})",
            data=data | {"other_customer": merge.survivor_id},
        )
        split_event = journal.record(
            customer=holder,
            channel=Event.Channel.SYSTEM,
            direction=Event.Direction.INTERNAL,
            kind="split",
            body=f"Split customer #{split.pk} off this conversation",
            data=data | {"other_customer": split.pk, "events_moved": len(move_events)},
        )
        Merge.objects.filter(pk=merge.pk).update(
            unmerged_at=timezone.now(), unmerged_by=by[:200], split_event_id=split_event.pk
        )
        broadcast_resync_on_commit(split_conv.pk, moved_to=split_conv.pk)
        broadcast_resync_on_commit(holder_conv.pk, moved_to=holder_conv.pk)
    return Customer.objects.get(pk=split.pk)


def _live(customer_id: int) -> Customer:
    customer = Customer.objects.get(pk=customer_id)
    while customer.merged_into_id is not None:
        customer = Customer.objects.get(pk=customer.merged_into_id)
    return customer


def _merged_since(merge: Merge, holder_id: int) -> bool:
    """Did a later merge, still in place, fold someone into the holder (renumbering it)?"""
    return Merge.objects.filter(pk__gt=merge.pk, survivor_id=holder_id, unmerged_at=None).exists()


def _move_back(
    merge: Merge,
    customers: list[int],
    conversations: list[int],
    split_conv: Conversation,
    move_events: list[int],
) -> int:
    """Every moved row back where it came from, one statement per table; the listed
    post-merge events too. Returns how many listed events were unread inbound messages."""
    groups = (
        MergeMove.objects.filter(merge=merge, action=MergeMove.Action.MOVED)
        .values_list("table_name", "column_name")
        .distinct()
    )
    with connection.cursor() as cursor:
        for table, column in groups:
            holders = conversations if "conversation" in column else customers
            extra = ", seq = m.old_position" if table == EVENTS else ""
            cursor.execute(
                f"""UPDATE {_q(table)} AS t SET {_q(column)} = m.from_value{extra}
                FROM {MOVES} m
                WHERE m.merge_id = %(merge)s AND m.table_name = %(table)s
                AND m.column_name = %(column)s AND m.action = 'moved'
                AND t.{_q(_pk(table))} = m.row_id
                AND t.{_q(column)} = ANY(%(holders)s)""",  # noqa: S608
                {"merge": merge.pk, "table": table, "column": column, "holders": holders},
            )
        if not move_events:
            return 0
        cursor.execute(
            f"""SELECT count(*) FILTER (WHERE direction = 'in' AND kind = 'message'), count(*)
            FROM {EVENTS} WHERE id = ANY(%(ids)s) AND conversation_id = ANY(%(conversations)s)
            AND id > %(after)s AND kind NOT IN ('merge', 'split')""",  # noqa: S608
            {"ids": move_events, "conversations": conversations, "after": merge.merge_event_id},
        )
        unread, found = cursor.fetchone()
        if found != len(move_events):
            raise NotSplittable(
                "Only events recorded on the survivor after the merge can move with the split."
            )
        cursor.execute(
            f"""UPDATE {EVENTS} SET conversation_id = %(split)s, seq = seq + {_PARKED}
            WHERE id = ANY(%(ids)s)""",  # noqa: S608
            {"split": split_conv.pk, "ids": move_events},
        )
    return unread


def _renumber_after_split(merge: Merge, conversation: Conversation, *, exact: bool) -> None:
    """Close the timeline's gaps. `exact`: the survivor's own events before the merge take
    their old seq back, and what came after follows in its order."""
    if exact:
        order = (
            "(e.id > %(event)s), CASE WHEN e.id < %(event)s "
            "THEN coalesce(m.old_position, e.seq) ELSE e.seq END, e.id"
        )
    else:
        order = "e.seq, e.id"
    sql = f"""
    WITH ordered AS (
        SELECT e.id, row_number() OVER (ORDER BY {order}) AS position
        FROM {EVENTS} e LEFT JOIN {MOVES} m ON m.merge_id = %(merge)s
            AND m.table_name = %(table)s AND m.action = 'renumbered' AND m.row_id = e.id
        WHERE e.conversation_id = %(conversation)s
    )
    UPDATE {EVENTS} AS e SET seq = o.position FROM ordered o
    WHERE e.id = o.id AND e.conversation_id = %(conversation)s AND e.seq <> o.position
    """  # noqa: S608
    params: dict[str, Any] = {
        "merge": merge.pk,
        "table": EVENTS,
        "conversation": conversation.pk,
        "event": merge.merge_event_id or 0,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _rehome_cases(conversation: Conversation, other: Conversation) -> None:
    """Events of `conversation` whose case went to `other` with the split (recorded after
    the merge on the case the survivor carried on) join a case of their own timeline: its
    open one, else one like the case they had, so no need leaves the inbox with them."""
    stray = Event.objects.filter(conversation=conversation, case__conversation=other)
    for case in Case.objects.filter(pk__in=stray.values("case_id")).order_by("pk"):
        theirs = stray.filter(case=case)
        home = (
            Case.objects.filter(conversation=conversation)
            .exclude(status=Case.Status.RESOLVED)
            .first()
        )
        if home is None:
            home = Case.objects.create(
                conversation=conversation,
                status=case.status,
                priority=case.priority,
                intent=case.intent,
                team_id=case.team_id,
                assignee_id=case.assignee_id,
                opened_at=theirs.order_by("occurred_at").values_list("occurred_at", flat=True)[0],
                resolved_at=case.resolved_at,
                resolution=case.resolution,
            )
        theirs.update(case=home)


def _restore_rows(merge: Merge) -> None:
    """Rows the merge removed come back; rows it changed or added are undone, unless they
    changed again since (then they are left as they are now)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT DISTINCT table_name, action,
                CASE WHEN action = 'changed' THEN
                    (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(before) k)
                END
            FROM {MOVES} WHERE merge_id = %s AND action IN ('removed', 'changed', 'added')""",  # noqa: S608
            [merge.pk],
        )
        groups = cursor.fetchall()
        params = {"merge": merge.pk}
        order = {"removed": 0, "changed": 1, "added": 2}  # back in, then undone, then gone
        for table, action, columns in sorted(groups, key=lambda g: order[g[1]]):
            params["table"] = table
            mine = f"m.merge_id = %(merge)s AND m.table_name = %(table)s AND m.action = '{action}'"
            if action == "removed":
                sql = f"""INSERT INTO {_q(table)}
                SELECT (jsonb_populate_record(NULL::{_q(table)}, m.before)).* FROM {MOVES} m
                WHERE {mine} ON CONFLICT DO NOTHING"""  # noqa: S608
            elif action == "changed":
                params["keys"] = columns
                assignments = ", ".join(f"{_q(c)} = r.{_q(c)}" for c in columns)
                sql = f"""UPDATE {_q(table)} AS t SET {assignments}
                FROM (
                    SELECT m.row_id AS row_id_, m.after AS after_,
                        (jsonb_populate_record(NULL::{_q(table)}, m.before)).*
                    FROM {MOVES} m WHERE {mine}
                    AND (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(m.before) k)
                        = %(keys)s::text[]
                ) r
                WHERE t.{_q(_pk(table))} = r.row_id_ AND to_jsonb(t) @> r.after_"""  # noqa: S608
            else:
                sql = f"""DELETE FROM {_q(table)} AS t USING {MOVES} m
                WHERE {mine} AND t.{_q(_pk(table))} = m.row_id AND to_jsonb(t) @> m.after"""  # noqa: S608
            cursor.execute(sql, params)


def _restore_survivor_fields(merge: Merge) -> None:
    """What the survivor took from the merged customer (blank fields, traits it lacked)
    goes, unless it changed since."""
    before = merge.before.get("survivor", {})
    merged = merge.before.get("merged", {})
    survivor = Customer.objects.get(pk=merge.survivor_id)
    changed = []
    for field in ("display_name", "time_zone", "locale"):
        if before.get(field) == "" and getattr(survivor, field) == merged.get(field) != "":
            setattr(survivor, field, "")
            changed.append(field)
    traits = dict(survivor.traits)
    for key, value in (merged.get("traits") or {}).items():
        if key not in (before.get("traits") or {}) and traits.get(key) == value:
            del traits[key]
    if traits != survivor.traits:
        survivor.traits = traits
        changed.append("traits")
    if changed:
        survivor.save(update_fields=changed)


def _restore_summary(conversation: Conversation, *, start: dict | None, since: int | None) -> None:
    """The inbox summary of a timeline after a split: the summary it had before the merge
    (`start`) with the events recorded after it (`since`, an event id) folded in as the
    journal folds them, or (no `start`) recomputed from all its events."""
    start = start or {}
    field = Conversation._meta.get_field
    values = {
        name: field(name).to_python(start.get(name))  # type: ignore[union-attr]
        for name in ("last_event_at", "last_inbound_at", "last_outbound_at")
    }
    last_channel = start.get("last_channel") or ""
    events = Event.objects.filter(conversation=conversation)
    later = events.filter(pk__gte=since) if start and since else events
    totals = later.aggregate(
        last_event_at=models.Max("occurred_at"),
        last_inbound_at=models.Max("occurred_at", filter=models.Q(direction=Event.Direction.IN)),
        last_outbound_at=models.Max("occurred_at", filter=models.Q(direction=Event.Direction.OUT)),
    )
    for name, value in totals.items():
        values[name] = max(filter(None, [values[name], value]), default=None)
    last_in = later.filter(direction=Event.Direction.IN).order_by("-occurred_at", "-seq").first()
    if last_in is not None and last_in.occurred_at >= values["last_inbound_at"]:
        last_channel = last_in.channel
    case = (
        Case.objects.filter(conversation=conversation).exclude(status=Case.Status.RESOLVED).first()
    )
    conversation.last_seq = events.count()
    conversation.last_event_at = values["last_event_at"]
    conversation.last_inbound_at = values["last_inbound_at"]
    conversation.last_outbound_at = values["last_outbound_at"]
    conversation.last_channel = last_channel
    conversation.current_case = case
    conversation.status = Conversation.Status.OPEN if case else Conversation.Status.IDLE
    conversation.priority = case.priority if case else 0
