from django.apps import AppConfig


class FederationConfig(AppConfig):
    name = "federation"
    verbose_name = "Structure (users, customers, projects)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from .api import authentication  # noqa: F401  (registers its OpenAPI extension)
