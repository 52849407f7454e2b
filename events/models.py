"""The event log: one row per change that matters, written in the change's own transaction.

The log sits below the domain apps, so it names the objects an event concerns by uuid rather than
by foreign keys into them. One of them is the event's *scope*: the object whose visibility decides
who may see the event (an order event is seen by whoever may see the order). The others are kept
so that lists can be filtered by customer, project, resource, order, offering or provider.
"""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from .scopes import EventQuerySet


class Event(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created = models.DateTimeField(default=timezone.now, db_index=True)
    event_type = models.CharField(max_length=100, db_index=True)
    message = models.TextField(blank=True)
    actor_uuid = models.UUIDField(null=True, blank=True, db_index=True, help_text="The person who made the change.")
    actor_username = models.CharField(max_length=150, blank=True)
    scope_type = models.CharField(max_length=20, help_text="The kind of object whose visibility the event follows.")
    scope_uuid = models.UUIDField()
    customer_uuid = models.UUIDField(null=True, blank=True)
    project_uuid = models.UUIDField(null=True, blank=True)
    resource_uuid = models.UUIDField(null=True, blank=True)
    order_uuid = models.UUIDField(null=True, blank=True)
    offering_uuid = models.UUIDField(null=True, blank=True)
    provider_uuid = models.UUIDField(null=True, blank=True)
    context = models.JSONField(default=dict, blank=True)
    dispatched_at = models.DateTimeField(
        null=True, blank=True, help_text="When notifications and webhook deliveries were queued from it."
    )

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["scope_type", "scope_uuid"], name="event_scope"),
            models.Index(fields=["customer_uuid", "created"], name="event_customer"),
            models.Index(fields=["project_uuid", "created"], name="event_project"),
            models.Index(fields=["resource_uuid", "created"], name="event_resource"),
            models.Index(fields=["id"], condition=Q(dispatched_at__isnull=True), name="event_undispatched"),
        ]

    def __str__(self):
        return f"{self.event_type} ({self.created:%Y-%m-%d %H:%M:%S})"
