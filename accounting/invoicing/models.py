"""Monthly invoices per customer, in Waldur's shape: one invoice per (customer, year, month), items per
resource × component × plan period.

Money is `Decimal` throughout. A quantity that is a fraction (active days of a month, a limit spread
over its period's months) is kept to ten places; `price` is exactly `quantity × unit_price` of the
stored values and `total` is exactly the sum of the item prices, so nothing is rounded until display.
"""

import uuid

from django.db import models

from common.formatting import money_text
from common.querysets import VisibleQuerySet


class InvoiceState(models.TextChoices):
    """Waldur's invoice states: `pending` while the month may still change, `created` once it is closed."""

    PENDING = "pending", "Pending"
    CREATED = "created", "Created"


class InvoiceQuerySet(VisibleQuerySet):
    def _visible_to_member(self, user):
        """Visible to the owners of the invoiced customer."""
        from federation.models import Customer

        return self.filter(customer_id__in=Customer.objects.owned_by(user).values("id"))


class InvoiceItemQuerySet(VisibleQuerySet):
    def _visible_to_member(self, user):
        """Visible with the invoice."""
        return self.filter(invoice__in=Invoice.objects.visible_to(user))


class Invoice(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    customer = models.ForeignKey("federation.Customer", on_delete=models.PROTECT, related_name="invoices")
    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField()
    state = models.CharField(max_length=10, choices=InvoiceState.choices, default=InvoiceState.PENDING)
    total = models.DecimalField(max_digits=32, decimal_places=16, default=0)
    currency = models.CharField(max_length=3)
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    objects = InvoiceQuerySet.as_manager()

    class Meta:
        ordering = ["-year", "-month", "customer_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "year", "month"],
                name="invoice_unique_per_customer_month",
                violation_error_message="The customer already has an invoice for this month.",
            ),
            models.CheckConstraint(condition=models.Q(month__gte=1, month__lte=12), name="invoice_month_in_range"),
        ]
        indexes = [models.Index(fields=["year", "month", "state"], name="invoice_year_month_state_idx")]

    def __str__(self):
        return f"{self.customer_id} {self.year}-{self.month:02d} ({self.state})"


class InvoiceItem(models.Model):
    """What one component of one resource costs over one stretch of the month under one plan.

    The names of the project, resource, offering and plan are copied in, so a closed invoice reads
    the same after the resource is renamed or deleted.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="items")
    resource = models.ForeignKey(
        "marketplace.Resource", null=True, blank=True, on_delete=models.SET_NULL, related_name="invoice_items"
    )
    component_type = models.CharField(max_length=50)
    billing_type = models.CharField(max_length=10)
    quantity = models.DecimalField(max_digits=28, decimal_places=10)
    unit_price = models.DecimalField(max_digits=22, decimal_places=6)
    unit = models.CharField(max_length=30, blank=True)
    start = models.DateField()
    end = models.DateField(help_text="Last day covered, inclusive.")
    price = models.DecimalField(max_digits=32, decimal_places=16, help_text="quantity × unit_price, unrounded.")
    project_name = models.CharField(max_length=150, blank=True)
    project_uuid = models.UUIDField(null=True, blank=True)
    resource_name = models.CharField(max_length=150, blank=True)
    offering_name = models.CharField(max_length=150, blank=True)
    plan_name = models.CharField(max_length=150, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    objects = InvoiceItemQuerySet.as_manager()

    class Meta:
        ordering = ["invoice_id", "project_name", "resource_name", "start", "component_type", "id"]
        indexes = [models.Index(fields=["project_uuid"], name="invoice_item_project_uuid_idx")]

    def __str__(self):
        return f"{self.resource_name} {self.component_type} {self.start}..{self.end}: {money_text(self.price)}"
