"""Shares: allocations of allocations of one offering component, in two levels.

Staff grant a customer a share (the root: `project` empty, no parent); the customer's owners cut
project shares from it (`project` set, `parent` the customer's share). The arithmetic of what is
given out, used and left is in `arithmetic.py`; the rules of granting and changing in `services.py`.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from common.querysets import VisibleQuerySet


class ShareQuerySet(VisibleQuerySet):
    def _visible_to_member(self, user):
        """A customer's share: its owners and the offering's provider owners; a project share: with the project too."""
        from federation.models import Customer, Project

        owned = Customer.objects.owned_by(user).values("id")
        return self.filter(
            Q(customer_id__in=owned)
            | Q(offering__customer_id__in=owned)
            | Q(project_id__in=Project.objects.visible_to(user).values("id"))
        )

    def roots(self):
        return self.filter(parent__isnull=True)


class Share(models.Model):
    """An amount of one component of one offering, for a customer (root) or one of its projects (child)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    offering = models.ForeignKey("marketplace.Offering", on_delete=models.PROTECT, related_name="shares")
    component_type = models.CharField(max_length=50, help_text="The offering component's type, as in limits.")
    customer = models.ForeignKey(
        "federation.Customer",
        on_delete=models.PROTECT,
        related_name="shares",
        help_text="The customer the share is for; for a project share, the project's customer.",
    )
    project = models.ForeignKey(
        "federation.Project", null=True, blank=True, on_delete=models.PROTECT, related_name="shares"
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        help_text="The customer's share a project share is cut from.",
    )
    amount = models.DecimalField(max_digits=28, decimal_places=10, help_text="In the component's measured unit.")
    start_date = models.DateField()
    end_date = models.DateField(help_text="The last day of the share.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    objects = ShareQuerySet.as_manager()

    class Meta:
        ordering = ["offering_id", "component_type", "customer_id", "project_id", "start_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0),
                name="share_amount_not_negative",
                violation_error_message="The amount must not be negative.",
            ),
            models.CheckConstraint(
                condition=Q(start_date__lte=F("end_date")),
                name="share_start_le_end",
                violation_error_message="The share must not end before it starts.",
            ),
            models.CheckConstraint(
                condition=Q(project__isnull=True, parent__isnull=True) | Q(project__isnull=False, parent__isnull=False),
                name="share_root_or_project_child",
                violation_error_message="A share is either a customer's (no parent) or a project's (with a parent).",
            ),
            models.UniqueConstraint(
                fields=["parent", "project"],
                name="share_one_per_project_and_parent",
                violation_error_message="The project already has a share of this customer share.",
            ),
        ]
        indexes = [models.Index(fields=["offering", "component_type", "customer"], name="share_offering_comp_cust_idx")]

    def __str__(self):
        owner = f"project {self.project_id}" if self.project_id else f"customer {self.customer_id}"
        return f"{self.offering_id}/{self.component_type} {owner}: {self.amount} {self.start_date}..{self.end_date}"

    @property
    def is_root(self) -> bool:
        return self.parent_id is None
