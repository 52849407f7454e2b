from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks (signed event deliveries)"
    default_auto_field = "django.db.models.BigAutoField"
