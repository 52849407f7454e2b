from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications (mail built from events)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from events.services import register_consumer

        from .services import notifications_from_events

        register_consumer(notifications_from_events)
