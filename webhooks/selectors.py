from django.db.models import QuerySet

from .models import Webhook, WebhookDelivery


def webhook_list(*, user) -> QuerySet[Webhook]:
    """The hooks the user made (staff and support: every hook), with what the API shows of their creator."""
    return Webhook.objects.visible_to(user).select_related("created_by")


def webhook_deliveries(*, hook: Webhook) -> QuerySet[WebhookDelivery]:
    """The hook's deliveries, newest first."""
    return hook.deliveries.order_by("-created", "-id")
