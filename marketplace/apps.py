from django.apps import AppConfig


class MarketplaceConfig(AppConfig):
    name = "marketplace"
    verbose_name = "Marketplace (offerings, orders, resources)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from events.scopes import register_scope
        from federation.hooks import register_user_visibility

        from .models import Offering, Order, Resource
        from .selectors import people_acting_on_visible_orders

        register_user_visibility(people_acting_on_visible_orders)
        register_scope("order", Order.objects.visible_to)
        register_scope("resource", Resource.objects.visible_to)
        register_scope("offering", Offering.objects.visible_to)
