from django.apps import AppConfig


class WaldurProviderConfig(AppConfig):
    name = "waldur_provider"
    verbose_name = "Waldur provider API (for Waldur site agents)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from events.services import register_consumer

        from .event_queues import messages_queue

        register_consumer(messages_queue)
