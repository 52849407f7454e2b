import uuid

from django.db import models

from common.formatting import plain_number
from common.querysets import VisibleQuerySet

from .invoicing.models import Invoice, InvoiceItem, InvoiceState  # noqa: F401  (models of the app)
from .policies.models import Policy, PolicyFiring  # noqa: F401  (models of the app)
from .shares.models import Share  # noqa: F401  (models of the app)


class ComponentUsageQuerySet(VisibleQuerySet):
    def _visible_to_member(self, user):
        """Visible with the resource."""
        from marketplace.models import Resource

        return self.filter(resource__in=Resource.objects.visible_to(user))


class ComponentUsage(models.Model):
    """The cumulative usage of one component of one resource in one billing month.

    Unique per (resource, component, month, username): a new report for the month replaces the
    amount, so providers can report again safely. `username` is empty for the resource as a whole
    and names the provider-local user for per-user rows.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # No index of its own: the unique key below leads with the resource, and serves every look-up by it.
    resource = models.ForeignKey(
        "marketplace.Resource", on_delete=models.CASCADE, related_name="component_usages", db_index=False
    )
    component_type = models.CharField(max_length=60)
    billing_period = models.DateField(help_text="First day of the billing month.")
    username = models.CharField(max_length=100, blank=True, default="")
    # Ten decimals: a short job is a few millionths of a k-CPU-hour, and it must not round to zero.
    usage = models.DecimalField(max_digits=28, decimal_places=10)
    decreased = models.BooleanField(
        default=False, help_text="The last report was lower than an earlier one for the same month (kept, flagged)."
    )
    previous_usage = models.DecimalField(max_digits=28, decimal_places=10, null=True, blank=True)
    description = models.CharField(max_length=200, blank=True)
    reported_at = models.DateTimeField()
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    objects = ComponentUsageQuerySet.as_manager()

    class Meta:
        ordering = ["-billing_period", "component_type", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["resource", "component_type", "billing_period", "username"],
                name="component_usage_unique_per_month",
            )
        ]
        indexes = [models.Index(fields=["billing_period"])]

    def __str__(self):
        return f"{self.resource_id} {self.component_type} {self.billing_period:%Y-%m}: {plain_number(self.usage)}"
