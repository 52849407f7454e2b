from django.apps import AppConfig


class FederationConfig(AppConfig):
    name = "federation"
    verbose_name = "Structure (users, customers, projects)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from events.scopes import register_scope

        from . import token_cache  # noqa: F401  (drops cached tokens when a token or its user changes)
        from .api import authentication  # noqa: F401  (registers its OpenAPI extension)
        from .models import Customer, Project

        register_scope("customer", Customer.objects.visible_to)
        register_scope("project", Project.objects.visible_to)
