from django.apps import AppConfig


class MarketplaceConfig(AppConfig):
    name = "marketplace"
    verbose_name = "Marketplace (offerings, orders, resources)"
    default_auto_field = "django.db.models.BigAutoField"
