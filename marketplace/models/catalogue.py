"""What providers offer: offerings, their components, plans and plan prices."""

import uuid

from django.db import models
from django.db.models import F, Q

from common.validation import validate_json_storable

from .managers import OfferingQuerySet, PlanQuerySet


class OfferingState(models.TextChoices):
    """Waldur's offering states, spelled as Waldur serves them (`state=Active,Paused` in its clients)."""

    DRAFT = "Draft", "Draft"
    ACTIVE = "Active", "Active"
    PAUSED = "Paused", "Paused"
    ARCHIVED = "Archived", "Archived"


class Offering(models.Model):
    """A service a provider organisation (a customer) publishes; only active offerings can be ordered."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=150)
    description = models.TextField(max_length=5000, blank=True)
    customer = models.ForeignKey(
        "federation.Customer",
        on_delete=models.PROTECT,
        related_name="offerings",
        help_text="The provider organisation; its owners manage the offering and review its orders.",
    )
    type = models.CharField(
        max_length=100,
        default="manual",
        help_text="Selects the order processor (see marketplace.processors); 'manual' means a person completes orders.",
    )
    state = models.CharField(max_length=20, choices=OfferingState.choices, default=OfferingState.DRAFT)
    terms_of_service = models.TextField(max_length=20000, blank=True)
    terms_of_service_link = models.URLField(blank=True)
    options = models.JSONField(
        default=dict,
        blank=True,
        validators=[validate_json_storable],
        help_text='Inputs an order must carry: {"order": [names], "options": {name: {"type": ..., ...}}}.',
    )
    auto_approve = models.BooleanField(
        default=False, help_text="Orders skip provider review and go straight to execution."
    )
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    objects = OfferingQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["state", "type"])]

    def __str__(self):
        return self.name

    @property
    def has_terms(self) -> bool:
        return bool(self.terms_of_service.strip() or self.terms_of_service_link)


class BillingType(models.TextChoices):
    USAGE = "usage"
    LIMIT = "limit"
    FIXED = "fixed"
    ONE = "one"


class LimitPeriod(models.TextChoices):
    MONTH = "month"
    QUARTERLY = "quarterly"  # Waldur's name for a calendar quarter
    ANNUAL = "annual"
    TOTAL = "total"


class OfferingComponent(models.Model):
    """One measured quantity of an offering (`cpu_k_hours`, `storage_tb`, ...)."""

    offering = models.ForeignKey(Offering, on_delete=models.CASCADE, related_name="components")
    type = models.CharField(max_length=50, help_text="Key of the component within its offering, as used in limits.")
    name = models.CharField(max_length=150)
    description = models.CharField(max_length=500, blank=True)
    measured_unit = models.CharField(max_length=30, blank=True)
    billing_type = models.CharField(max_length=10, choices=BillingType.choices, default=BillingType.LIMIT)
    limit_period = models.CharField(max_length=10, choices=LimitPeriod.choices, blank=True)
    min_value = models.PositiveBigIntegerField(null=True, blank=True)
    max_value = models.PositiveBigIntegerField(null=True, blank=True)
    default_limit = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["offering_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["offering", "type"],
                name="offering_component_type_unique",
                violation_error_message="The offering already has a component of this type.",
            ),
            models.CheckConstraint(
                condition=Q(min_value__isnull=True) | Q(max_value__isnull=True) | Q(min_value__lte=F("max_value")),
                name="offering_component_min_le_max",
                violation_error_message="min_value must not exceed max_value.",
            ),
        ]

    def __str__(self):
        return f"{self.offering} / {self.type}"


class PlanUnit(models.TextChoices):
    MONTH = "month"
    DAY = "day"
    HOUR = "hour"
    ONCE = "once"


class Plan(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    offering = models.ForeignKey(Offering, on_delete=models.CASCADE, related_name="plans")
    name = models.CharField(max_length=150)
    description = models.TextField(max_length=2000, blank=True)
    unit = models.CharField(max_length=10, choices=PlanUnit.choices, default=PlanUnit.MONTH)
    archived = models.BooleanField(default=False, help_text="Archived plans stay on existing resources only.")
    created = models.DateTimeField(auto_now_add=True)

    objects = PlanQuerySet.as_manager()

    class Meta:
        ordering = ["offering_id", "name", "id"]

    def __str__(self):
        return f"{self.offering} / {self.name}"


class PlanComponent(models.Model):
    """Price per unit of one component in a plan, and the amount the plan includes."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="components")
    component = models.ForeignKey(OfferingComponent, on_delete=models.CASCADE, related_name="plan_components")
    price = models.DecimalField(max_digits=16, decimal_places=6, default=0)
    amount = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["plan_id", "component_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "component"],
                name="plan_component_unique",
                violation_error_message="The plan already prices this component.",
            ),
            models.CheckConstraint(
                condition=Q(price__gte=0),
                name="plan_component_price_not_negative",
                violation_error_message="Price must not be negative.",
            ),
        ]

    def __str__(self):
        return f"{self.plan} / {self.component.type}"
