from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications (mail built from events)"
    default_auto_field = "django.db.models.BigAutoField"
