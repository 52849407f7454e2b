from django.apps import AppConfig


class ProvidersConfig(AppConfig):
    name = "providers"
    verbose_name = "Providers (federation protocol)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from events.scopes import register_scope
        from federation.hooks import register_membership_listener
        from marketplace.processors import register_default_processor, register_offering_related

        from .models import Provider
        from .processor import ProviderProcessor
        from .services import membership_listener

        register_default_processor(ProviderProcessor())
        register_offering_related("provider_link__provider")
        register_membership_listener(membership_listener)
        register_scope("provider", Provider.objects.visible_to)
