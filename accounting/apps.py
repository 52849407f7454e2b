from django.apps import AppConfig


class AccountingConfig(AppConfig):
    name = "accounting"
    verbose_name = "Accounting (usage records)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from marketplace.checks import register_order_check

        from .shares.checks import shares_check_order

        register_order_check(shares_check_order)

        from .policies.checks import policies_check_order
        from .policies.services import policies_evaluate_usage
        from .services import register_usage_listener

        register_order_check(policies_check_order)
        register_usage_listener(policies_evaluate_usage)

        from .invoicing.services import invoices_wake_recompute

        register_usage_listener(invoices_wake_recompute)
