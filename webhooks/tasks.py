"""Thin tasks: send due deliveries (woken after the events are queued, and by beat), prune old ones."""

from celery import shared_task
from django.conf import settings

from common.wakeups import wake_done

from . import services
from .services.delivery import RUN_BUDGET

# A run stops claiming batches after RUN_BUDGET; the limit leaves room for the batch in hand.
SEND_TIME_LIMIT = int(RUN_BUDGET + settings.WEBHOOK_BATCH_SIZE * 2 * settings.WEBHOOK_TIMEOUT + 30)


@shared_task(
    name="webhooks.deliver_due", acks_late=True, soft_time_limit=SEND_TIME_LIMIT, time_limit=SEND_TIME_LIMIT + 30
)
def deliver_due() -> int:
    wake_done(services.SEND_WAKE_KEY)
    return services.deliveries_send_due()


@shared_task(name="webhooks.prune")
def prune_deliveries() -> int:
    return services.deliveries_prune()
