"""One row per (person, event) that makes a mail: written with the event's hand-over, sent later.

The row carries what its part of the mail says (subject, body, portal link), rendered when the
event was handed on, so a mail never depends on objects or events that changed or were pruned
since. Several pending rows of one person go out together as one digest.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class MailNotification(models.Model):
    class State(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        FAILED = "failed"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    event_uuid = models.UUIDField(help_text="The event this notification tells of (events are pruned; this stays).")
    event_type = models.CharField(max_length=100)
    kind = models.CharField(max_length=30, help_text="The kind of mail (federation/notification_kinds.py).")
    subject = models.CharField(max_length=300)
    body = models.TextField()
    url = models.URLField(max_length=500, help_text="The portal page to act on or read about it.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="After a failed attempt: not tried again before this time."
    )
    last_error = models.TextField(blank=True)
    message_id = models.CharField(max_length=250, blank=True, help_text="The Message-ID of the mail it went out in.")
    created = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "event_uuid"], name="notification_one_per_user_and_event"),
        ]
        indexes = [
            models.Index(fields=["user", "created"], condition=Q(state="pending"), name="notification_pending_by_user"),
            models.Index(fields=["state", "created"], name="notification_state"),
        ]

    def __str__(self):
        return f"{self.kind} to {self.user_id}: {self.subject}"
