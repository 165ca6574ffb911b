"""An event's detail: a channel's own row that belongs to one event (an email's `Mail`:
its Message-ID and original MIME), written with the event by every write path of
`journal.record(detail=...)`, so an event never stands without it.

The caller hands an unsaved instance, its foreign key to the event left unset. The
one-statement append and the first-contact statement insert it in the same statement as
the event (one more data-modifying CTE, from the event's RETURNING); the locked path saves
it right after the event, under the same lock and transaction. Its fields are prepared
as `Model.save` prepares them (`pre_save`: a FileField's file is written to storage
first, so a row never stands without its file; a statement that then fails leaves the
file unreferenced, as a failed `save` would). A unique constraint of the detail's (a
Message-ID already taken) fails the whole statement: nothing is written and the
IntegrityError reaches the caller. When `record` answers with an event recorded before (a
repeat), no detail is written: its `pk` stays None.
"""

from __future__ import annotations

from functools import cache

from django.db import connection, models

from conversations.models import Event

# The line every append statement ends with: what `journal._appended` reads.
RESULT = "SELECT event.id, conversation.* FROM event, conversation"


def _event_field(model: type[models.Model]) -> models.Field:
    (field,) = [
        f for f in model._meta.concrete_fields if f.is_relation and f.related_model is Event
    ]
    return field


def _columns(model: type[models.Model]) -> list[models.Field]:
    """The fields the statement sets from the instance: all but its id and its event."""
    event_field = _event_field(model)
    return [f for f in model._meta.concrete_fields if not f.primary_key and f is not event_field]


@cache
def statement(sql: str, model: type[models.Model]) -> str:
    """The append statement `sql` writing `model`'s row too, from the event it inserts;
    the row's id is the result's last column."""
    fields, quote = _columns(model), connection.ops.quote_name  # "references" is SQL's
    columns = [quote(f.column) for f in [_event_field(model), *fields]]
    values = ["id", *(f"%(detail__{f.column})s" for f in fields)]
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    detail = f"""), detail AS (
    INSERT INTO {table} ({", ".join(columns)})
    SELECT {", ".join(values)} FROM event RETURNING {pk}
)
SELECT event.id, conversation.*, (SELECT {pk} FROM detail) FROM event, conversation
"""  # noqa: S608 (the model's own table and column names, no input)
    head, _, tail = sql.rpartition(")\n" + RESULT)
    assert head and not tail.strip(), "an append statement ends with its RESULT"
    return head + detail


def params(detail: models.Model) -> dict:
    """The detail's values as `save` would insert them (its file stored first)."""
    return {
        f"detail__{field.column}": field.get_db_prep_save(
            field.pre_save(detail, add=True), connection
        )
        for field in _columns(type(detail))
    }


def written(detail: models.Model, event: Event, pk: int) -> None:
    """The detail is the row `pk`, of `event`: as if saved."""
    detail.pk = pk
    setattr(detail, _event_field(type(detail)).attname, event.pk)
    detail._state.adding, detail._state.db = False, connection.alias


def save(detail: models.Model, event: Event) -> None:
    """The locked path's: insert the detail of `event`, in the caller's transaction."""
    setattr(detail, _event_field(type(detail)).attname, event.pk)
    detail.save(force_insert=True)
