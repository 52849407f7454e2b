import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from .managers import OrderQuerySet


class OrderType(models.TextChoices):
    CREATE = "Create"
    UPDATE = "Update"
    TERMINATE = "Terminate"


class OrderState(models.TextChoices):
    """Waldur's order states, lower-case as Waldur serves them; the labels are what people read."""

    PENDING_CONSUMER = "pending-consumer", "Pending consumer"
    PENDING_PROVIDER = "pending-provider", "Pending provider"
    EXECUTING = "executing", "Executing"
    DONE = "done", "Done"
    ERRED = "erred", "Erred"
    CANCELED = "canceled", "Canceled"
    REJECTED = "rejected", "Rejected"


# The order state groups; every module takes them from here rather than listing states again.
# Awaiting review: the order's creator may still cancel it.
PENDING_ORDER_STATES = (OrderState.PENDING_CONSUMER, OrderState.PENDING_PROVIDER)
# States in which an order still holds its resource: a resource has at most one such order.
OPEN_ORDER_STATES = (*PENDING_ORDER_STATES, OrderState.EXECUTING)
# No transition leaves these.
FINAL_ORDER_STATES = (OrderState.DONE, OrderState.ERRED, OrderState.CANCELED, OrderState.REJECTED)


class Order(models.Model):
    """A request to create, change or terminate a resource; its state machine lives in the services."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    type = models.CharField(max_length=10, choices=OrderType.choices, default=OrderType.CREATE)
    state = models.CharField(max_length=20, choices=OrderState.choices, default=OrderState.PENDING_CONSUMER)
    offering = models.ForeignKey("marketplace.Offering", on_delete=models.PROTECT, related_name="orders")
    plan = models.ForeignKey("marketplace.Plan", null=True, blank=True, on_delete=models.PROTECT, related_name="orders")
    project = models.ForeignKey("federation.Project", on_delete=models.PROTECT, related_name="orders")
    resource = models.ForeignKey(
        "marketplace.Resource", null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    attributes = models.JSONField(default=dict, blank=True)
    limits = models.JSONField(default=dict, blank=True)
    cost = models.DecimalField(
        max_digits=22, decimal_places=6, null=True, blank=True, help_text="Estimate per plan unit from plan and limits."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    consumer_reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    consumer_reviewed_at = models.DateTimeField(null=True, blank=True)
    provider_reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    provider_reviewed_at = models.DateTimeField(null=True, blank=True)
    error_message = models.TextField(max_length=2000, blank=True)
    reject_reason = models.TextField(
        max_length=2000,
        blank=True,
        help_text="Why the order was rejected, as the reviewer wrote it; told to its creator.",
    )
    error_traceback = models.TextField(max_length=20000, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["resource"],
                condition=Q(state__in=[s.value for s in OPEN_ORDER_STATES]),
                name="order_one_open_per_resource",
                violation_error_message="The resource already has an order pending or executing.",
            ),
        ]
        indexes = [models.Index(fields=["state"]), models.Index(fields=["created"])]

    def __str__(self):
        return f"{self.type} order {self.uuid} ({self.state})"
