"""Webhooks: a URL subscribed to events of one object, and one delivery row per event it is sent.

A hook names its scope by type and uuid, as the event log names the objects an event concerns: it
receives the events whose `<scope_type>_uuid` is the hook's `scope_uuid` (staff may leave the scope
empty and receive every event). Its secret signs every delivery (Standard Webhooks); it is shown
to its creator once, in the answer to the request that made the hook.

A delivery is the outbox row of one event for one hook: written in the dispatcher's transaction,
sent by the `webhooks.deliver_due` task, retried with backoff until it is delivered or fails.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from common.querysets import VisibleQuerySet
from common.validation import validate_json_storable
from events.services import CONCERNS

SCOPE_TYPES = [(name, name) for name in CONCERNS]


class WebhookQuerySet(VisibleQuerySet):
    def _visible_to_member(self, user):
        """A hook is its creator's own (staff and support see every hook)."""
        return self.filter(created_by=user)


class Webhook(models.Model):
    """Waldur calls it a web hook (/api/hooks-web/)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhooks")
    destination_url = models.URLField(max_length=1000)
    event_types = models.JSONField(
        default=list, blank=True, validators=[validate_json_storable], help_text="Empty: every event type."
    )
    scope_type = models.CharField(max_length=20, choices=SCOPE_TYPES, blank=True)
    scope_uuid = models.UUIDField(null=True, blank=True)
    secret = models.CharField(max_length=100, editable=False, help_text="whsec_ and base64 of the signing key.")
    is_active = models.BooleanField(default=True)
    disabled_reason = models.TextField(blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    objects = WebhookQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["scope_type", "scope_uuid"], condition=Q(is_active=True), name="webhook_active_scope"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(scope_type="", scope_uuid__isnull=True) | (~Q(scope_type="") & Q(scope_uuid__isnull=False)),
                name="webhook_scope_complete",
                violation_error_message="A hook's scope has both a type and a uuid, or neither.",
            ),
        ]

    def __str__(self):
        return f"{self.destination_url} ({self.scope_type or 'every event'})"


class WebhookDelivery(models.Model):
    class State(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"

    hook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event_uuid = models.UUIDField(help_text="Sent as `webhook-id`: the receiver de-duplicates by it.")
    event_type = models.CharField(max_length=100)
    payload = models.JSONField()
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.TextField(blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(state="pending"), name="webhook_delivery_due"),
            models.Index(fields=["hook", "-created"], name="webhook_delivery_hook"),
        ]
        constraints = [
            # An event is queued for a hook once, however often the dispatcher hands it on.
            models.UniqueConstraint(fields=["hook", "event_uuid"], name="webhook_delivery_once_per_event"),
        ]

    def __str__(self):
        return f"{self.event_type} → {self.hook_id} ({self.state})"
