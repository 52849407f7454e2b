from django.apps import AppConfig


class MarketplaceConfig(AppConfig):
    name = "marketplace"
    verbose_name = "Marketplace (offerings, orders, resources)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from federation.hooks import register_user_visibility

        from .selectors import people_acting_on_visible_orders

        register_user_visibility(people_acting_on_visible_orders)
