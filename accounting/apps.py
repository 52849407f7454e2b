from django.apps import AppConfig


class AccountingConfig(AppConfig):
    name = "accounting"
    verbose_name = "Accounting (usage records)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from .invoicing.services import invoices_wake_recompute
        from .services import register_usage_listener

        register_usage_listener(invoices_wake_recompute)
