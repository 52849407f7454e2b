from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks (signed event deliveries)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from events.services import register_consumer

        from .services import deliveries_queue

        register_consumer(deliveries_queue)
