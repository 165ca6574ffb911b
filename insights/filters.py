"""The insights page's filters, and the SQL fragments they add to every figure."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from django.utils import timezone


@dataclass(frozen=True)
class Filters:
    """A half-open period [start, end) and optional narrowing; None means everyone."""

    start: datetime
    end: datetime
    store: int | None = None
    team: int | None = None
    channel: str | None = None
    intent: str | None = None
    persona: int | None = None

    @classmethod
    def last_days(cls, days: int = 30, **narrowing) -> Filters:
        end = timezone.now()
        return cls(start=end - timedelta(days=days), end=end, **narrowing)

    @classmethod
    def for_dates(cls, first: date, last: date, **narrowing) -> Filters:
        """Whole days, first to last included, in the server's time zone."""
        tz = timezone.get_current_timezone()
        return cls(
            start=datetime.combine(first, time.min, tz),
            end=datetime.combine(last + timedelta(days=1), time.min, tz),
            **narrowing,
        )

    def with_persona(self, persona: int | None) -> Filters:
        return replace(self, persona=persona)

    def params(self) -> dict:
        return {
            "start": self.start,
            "end": self.end,
            "store": self.store,
            "team": self.team,
            "channel": self.channel,
            "intent": self.intent,
            "persona": self.persona,
        }

    def customers(self, column: str) -> str:
        """A predicate keeping the rows whose customer id (`column`) passes the persona and
        store filters; empty when neither is set."""
        parts = []
        if self.persona is not None:
            parts.append(
                f"{column} IN (SELECT customer_id FROM insights_personamember"  # noqa: S608
                " WHERE persona_id = %(persona)s)"
            )
        if self.store is not None:
            # shoppers known to the store: they scanned one of its labels (scans carry
            # the customer holding their visitor id)
            parts.append(
                f"{column} IN (SELECT s.customer_id FROM instore_scan s"  # noqa: S608
                " WHERE s.store_id = %(store)s AND s.customer_id IS NOT NULL)"
            )
        return "".join(f" AND {part}" for part in parts)

    def conversations(self, column: str) -> str:
        """The same for a conversation id column."""
        inner = self.customers("cv.customer_id")
        if not inner:
            return ""
        return (
            f" AND {column} IN (SELECT cv.id FROM conversations_conversation cv WHERE true{inner})"  # noqa: S608 (no input in the SQL)
        )
