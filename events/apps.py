from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = "Events (what happened, to whom it is visible)"
    default_auto_field = "django.db.models.BigAutoField"
