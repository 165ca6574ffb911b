"""Insights on a read replica (docs/scaling.md): the figures and the ORM's reads of
insights' models go to THROUGHLINE_INSIGHTS_DATABASE; writes and migrations never do."""

import pytest
from django.db.utils import ConnectionDoesNotExist

from conversations.models import Event
from insights import figures
from insights.filters import Filters
from insights.models import Persona
from insights.routers import InsightsReplicaRouter

pytestmark = pytest.mark.django_db


def test_reads_of_insights_models_go_to_the_configured_alias(settings):
    router = InsightsReplicaRouter()
    assert router.db_for_read(Persona) == "default"  # unset: the primary
    settings.THROUGHLINE_INSIGHTS_DATABASE = "insights"
    assert router.db_for_read(Persona) == "insights"
    assert router.db_for_read(Event) is None  # the rest: Django's default
    assert router.db_for_write(Persona) == "default"
    assert router.allow_migrate("insights", "insights") is False
    assert router.allow_migrate("default", "insights") is True


def test_the_figures_run_on_the_configured_alias(settings):
    assert figures.FIGURES["fcr"](Filters.last_days(30)).rows is not None  # on default
    settings.THROUGHLINE_INSIGHTS_DATABASE = "replica-nobody-configured"
    with pytest.raises(ConnectionDoesNotExist):
        figures.FIGURES["fcr"](Filters.last_days(30))
