"""Every write of the notifications app: rows from events (`fanout`), mail from rows (`sending`)."""

from .fanout import SEND_WAKE_KEY, notifications_from_events
from .sending import next_due_in, notification_send_to, notifications_send_due

__all__ = [
    "SEND_WAKE_KEY",
    "next_due_in",
    "notification_send_to",
    "notifications_from_events",
    "notifications_send_due",
]
