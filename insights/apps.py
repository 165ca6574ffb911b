from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "insights"
    verbose_name = "Insights"
    default_auto_field = "django.db.models.BigAutoField"
    plugs = {
        # the context gains `personas`; suggestions are ranked by what worked for them
        "context_providers": ["insights.context.provide"],
        "suggestion_rankers": ["insights.ranker.rank"],
        # each event updates the figures' facts and the outcomes of recent suggestions
        "event_reactions": ["insights.facts.on_event", "insights.outcomes.on_event"],
        "merge_hooks": ["insights.facts.move_to_survivor"],
        # the figures are for managers (console/roles.py)
        "manager_permissions": ["insights.view_insights"],
    }
