from django.conf import settings
from django.db import models
from django.db.models import Q

from .managers import StateChangeQuerySet
from .orders import OrderState
from .resources import ResourceState


class StateChange(models.Model):
    """One state change of an order or of a resource: who, when, from, to, and why."""

    order = models.ForeignKey(
        "marketplace.Order", null=True, blank=True, on_delete=models.CASCADE, related_name="state_changes"
    )
    resource = models.ForeignKey(
        "marketplace.Resource", null=True, blank=True, on_delete=models.CASCADE, related_name="state_changes"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20)
    message = models.TextField(blank=True)

    objects = StateChangeQuerySet.as_manager()

    class Meta:
        ordering = ["created", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(order__isnull=False, resource__isnull=True) | Q(order__isnull=True, resource__isnull=False),
                name="state_change_exactly_one_subject",
                violation_error_message="A state change belongs to exactly one order or resource.",
            ),
        ]

    def __str__(self):
        subject = self.order or self.resource
        return f"{subject}: {self.from_state or '∅'} → {self.to_state}"

    @property
    def from_label(self) -> str:
        return self._label(self.from_state)

    @property
    def to_label(self) -> str:
        return self._label(self.to_state)

    def _label(self, state: str) -> str:
        """The state as people read it: an order's or a resource's label (a state no longer known as is)."""
        states = OrderState if self.order_id else ResourceState
        return states(state).label if state in states.values else state
