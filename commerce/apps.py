from django.apps import AppConfig


class CommerceConfig(AppConfig):
    name = "commerce"
    plugs = {
        # carts and orders move with their customer when customers merge
        "merge_hooks": ["commerce.merges.move_to_survivor"],
        # the open cart, products being evaluated, the last order; the headline's intent
        "context_providers": ["commerce.context.provide"],
        "headline_parts": ["commerce.context.HEADLINE"],
        # a customer's export holds their carts, orders and products viewed
        "export_hooks": ["commerce.privacy.export"],
    }
