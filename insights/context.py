"""The customer context's `Personas` part (a `context_providers` plug): who this customer
is like, by the managers' persona rules, evaluated now in one query. JSON view `personas`:
`[{"id", "slug", "name"}, ...]`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conversations.context import ContextPart
from conversations.models import Customer

from .personas import personas_of


@dataclass(frozen=True)
class PersonaView:
    id: int
    slug: str
    name: str


@dataclass(frozen=True)
class Personas(ContextPart):
    personas: tuple[PersonaView, ...] = ()

    def as_extra(self) -> dict[str, Any]:
        return {"personas": [{"id": p.id, "slug": p.slug, "name": p.name} for p in self.personas]}


def provide(customer: Customer) -> Personas:
    return Personas(tuple(PersonaView(p.pk, p.slug, p.name) for p in personas_of(customer)))
