"""Insights' reads on a read replica, when one is configured (docs/scaling.md).

INSIGHTS_DATABASE_URL adds the database alias `insights` and sets
THROUGHLINE_INSIGHTS_DATABASE to it: the figures' aggregates run there
(insights.figures._fetch) and this router sends the ORM's reads of insights' own models
there too. Writes (the facts the reactions keep, personas, outcomes) stay on the primary
and no migration runs on the replica.
"""

from __future__ import annotations

from django.conf import settings


def insights_database() -> str:
    """The alias insights read from: the replica's, or `default`."""
    return getattr(settings, "THROUGHLINE_INSIGHTS_DATABASE", "default")


class InsightsReplicaRouter:
    def db_for_read(self, model, **hints):
        if model._meta.app_label == "insights":
            return insights_database()
        return None

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # one database and its copy: every row is on both

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"
