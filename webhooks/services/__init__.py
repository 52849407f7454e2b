"""Every write of the webhooks app. Views, tasks, admin actions and the event dispatcher call these.

- `hooks`: making, changing, enabling, disabling and deleting hooks.
- `fanout`: queuing a delivery per matching hook for each batch of new events (an event consumer).
- `delivery`: sending due deliveries, signed, with retries, and disabling hooks that keep failing.
"""

from .delivery import SEND_WAKE_KEY, deliveries_prune, deliveries_send_due
from .fanout import deliveries_queue, event_payload
from .hooks import webhook_create, webhook_delete, webhook_disable, webhook_enable, webhook_update

__all__ = [
    "SEND_WAKE_KEY",
    "deliveries_prune",
    "deliveries_queue",
    "deliveries_send_due",
    "event_payload",
    "webhook_create",
    "webhook_delete",
    "webhook_disable",
    "webhook_enable",
    "webhook_update",
]
