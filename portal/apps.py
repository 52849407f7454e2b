from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal (server-rendered pages over every app)"

    def ready(self):
        from . import row_hints  # noqa: F401  (connects its sign-in receiver)
