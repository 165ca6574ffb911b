from django.apps import AppConfig


class EngagementConfig(AppConfig):
    name = "engagement"
    verbose_name = "Proactive prompts"
    plugs = {
        # rules propose nudges, attribution and stops follow events, off the request path
        "event_reactions": ["engagement.hooks.on_event"],
        "merge_hooks": ["engagement.merges.move_to_survivor"],
        # every send attempt of a proactive message: held outside its recipient's quiet
        # hours, dropped when no longer worth sending
        "send_checks": ["engagement.attempts.check"],
        # missed calls that made a case hot: a call-back offer (voice never imports us)
        "missed_call_hooks": ["engagement.rules.missed_call.offer_call_back"],
        # an erased customer's nudges and watches are emptied; an export lists them
        "erasure_hooks": ["engagement.privacy.erase"],
        "export_hooks": ["engagement.privacy.export"],
    }
