"""Event queues of Waldur site agents in event mode, and the outbox of what is sent to them.

An agent in `event_process` mode registers one queue per offering (`register_queue`) and reads it
over STOMP (RabbitMQ's Web-STOMP plugin). The queue lives in a RabbitMQ virtual host of the
agent's own user, who may read it and nothing else; the user's RabbitMQ password is the API token
the agent registered with. A message is the outbox row of one event for one queue: written in the
events dispatcher's transaction, published by `waldur_provider.send_agent_messages`, retried until
the broker has it.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

# The object types an agent may ask for (Waldur's ObservableObjectTypeEnum); we publish the first three.
OBJECT_TYPES = (
    "order",
    "user_role",
    "resource",
    "resource_api_key_rotation",
    "service_account",
    "course_account",
    "offering_user",
    "offering_resources_sync",
    "resource_periodic_limits",
    "importable_resources",
)
PUBLISHED_TYPES = ("order", "user_role", "resource")


class AgentQueue(models.Model):
    """One agent user's queue for one offering, with the object types it receives."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent_queues")
    offering = models.ForeignKey("marketplace.Offering", on_delete=models.CASCADE, related_name="agent_queues")
    object_types = models.JSONField(default=list, help_text="What the agent asked to receive (empty: everything).")
    token_hash = models.CharField(
        max_length=64, blank=True, editable=False, help_text="The hash of the API token that is the queue's password."
    )
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True, help_text="When the agent last registered.")

    class Meta:
        ordering = ["offering_id", "user_id"]
        constraints = [models.UniqueConstraint(fields=["user", "offering"], name="agent_queue_one_per_user_offering")]

    def __str__(self):
        return f"{self.queue_name} of {self.rmq_username}"

    @property
    def rmq_username(self) -> str:
        return f"agent_{self.user.uuid.hex}"

    @property
    def vhost(self) -> str:
        return self.rmq_username

    @property
    def queue_name(self) -> str:
        return f"consumer_{self.offering.uuid.hex}"


class AgentMessage(models.Model):
    """One message for one queue; `sent_at` is set once the broker has confirmed it."""

    queue = models.ForeignKey(AgentQueue, on_delete=models.CASCADE, related_name="messages")
    event_uuid = models.UUIDField()
    body = models.JSONField()
    created = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["id"], condition=Q(sent_at__isnull=True), name="agent_message_unsent")]
        constraints = [
            models.UniqueConstraint(fields=["queue", "event_uuid"], name="agent_message_one_per_event_queue")
        ]

    def __str__(self):
        return f"{self.body.get('object_type', '?')} for {self.queue_id}"
