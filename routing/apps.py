from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "routing"
    default_auto_field = "django.db.models.BigAutoField"
    plugs = {
        # every event is routed (intent, hot, after hours, assignment) off the request path
        "event_reactions": ["routing.hooks.on_event"],
        # call backs and offers follow merges; an erased customer's call backs are cancelled
        "merge_hooks": ["routing.customers.move_to_survivor"],
        "erasure_hooks": ["routing.customers.erase"],
        # a shopper opening the widget may be offered a call or a chat (routing/moments.py)
        "presence_hooks": ["routing.moments.on_presence"],
        # a booked call back or a call that got through makes some suggestions stale
        "suggestion_rankers": ["routing.suggestions.rank"],
    }
