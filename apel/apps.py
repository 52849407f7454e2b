from django.apps import AppConfig


class ApelConfig(AppConfig):
    name = "apel"
    verbose_name = "APEL accounting exchange (EGI)"
    default_auto_field = "django.db.models.BigAutoField"
