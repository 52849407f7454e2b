"""Policies: a limit on the cost or on one component's usage of a project, a customer or an offering per
period, with thresholds that act when crossed (Waldur's project / customer / offering estimated-cost
policies and offering usage policies, in one model).

A policy fires once per threshold per period: a `PolicyFiring` row, unique on (policy, threshold,
period start), records what fired, what it measured and what it did. Its effects (blocking new
orders, blocking limit increases, the resources it paused) hold while the firing is `active`; they
are undone when the period rolls over or when the policy's limit is raised past the usage.
"""

import uuid

from django.db import models
from django.db.models import Q

from common.querysets import VisibleQuerySet


class PolicyScope(models.TextChoices):
    PROJECT = "project", "Project"
    CUSTOMER = "customer", "Customer"
    OFFERING = "offering", "Offering"


class PolicyKind(models.TextChoices):
    COST = "cost", "Estimated cost"
    USAGE = "usage", "Component usage"


class PolicyPeriod(models.TextChoices):
    """Calendar periods (accounting.periods): the one that contains today is the one measured."""

    MONTH = "month", "Month"
    QUARTER = "quarter", "Quarter"
    ANNUAL = "annual", "Year"


class PolicyAction(models.TextChoices):
    NOTIFY = "notify", "Notify the project's managers and the organisation's owners"
    BLOCK_CREATION = "block_creation", "Refuse new orders"
    BLOCK_MODIFICATION = "block_modification", "Refuse limit increases"
    PAUSE = "pause", "Pause the resources at the provider"
    TERMINATE = "terminate", "Terminate the resources"


class PolicyQuerySet(VisibleQuerySet):
    def _visible_to_member(self, user):
        """Visible with the object it limits: the project, the customer, or the offering's provider organisation."""
        from federation.models import Customer, Project

        customers = Customer.objects.visible_to(user).values("id")
        return self.filter(
            Q(project__in=Project.objects.visible_to(user).values("id"))
            | Q(customer__in=customers)
            | Q(offering__customer__in=customers)
        )


class Policy(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    scope_type = models.CharField(max_length=10, choices=PolicyScope.choices)
    project = models.ForeignKey(
        "federation.Project", null=True, blank=True, on_delete=models.CASCADE, related_name="policies"
    )
    customer = models.ForeignKey(
        "federation.Customer", null=True, blank=True, on_delete=models.CASCADE, related_name="policies"
    )
    offering = models.ForeignKey(
        "marketplace.Offering", null=True, blank=True, on_delete=models.CASCADE, related_name="policies"
    )
    kind = models.CharField(max_length=10, choices=PolicyKind.choices)
    period = models.CharField(max_length=10, choices=PolicyPeriod.choices, default=PolicyPeriod.MONTH)
    limit_cost = models.DecimalField(max_digits=22, decimal_places=6, null=True, blank=True)
    component_type = models.CharField(max_length=60, blank=True)
    limit_usage = models.DecimalField(max_digits=28, decimal_places=10, null=True, blank=True)
    thresholds = models.JSONField(
        default=list, help_text='[{"percent": 80, "actions": ["notify"]}, {"percent": 100, "actions": [...]}]'
    )
    created_by = models.ForeignKey(
        "federation.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    objects = PolicyQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "policies"
        constraints = [
            models.CheckConstraint(
                name="policy_scope_matches_type",
                condition=(
                    Q(scope_type="project", project__isnull=False, customer__isnull=True, offering__isnull=True)
                    | Q(scope_type="customer", project__isnull=True, customer__isnull=False, offering__isnull=True)
                    | Q(scope_type="offering", project__isnull=True, customer__isnull=True, offering__isnull=False)
                ),
                violation_error_message="A policy limits exactly the one object its scope type names.",
            ),
            models.CheckConstraint(
                name="policy_limit_matches_kind",
                condition=(
                    Q(kind="cost", limit_cost__gt=0, limit_usage__isnull=True)
                    | Q(kind="usage", limit_usage__gt=0, limit_cost__isnull=True) & ~Q(component_type="")
                ),
                violation_error_message="A cost policy has a limit_cost; a usage policy a component and limit_usage.",
            ),
        ]

    def __str__(self):
        return f"{self.kind} policy {self.uuid} on {self.scope_type} {self.scope_name}"

    @property
    def scope(self):
        return getattr(self, self.scope_type)

    @property
    def scope_name(self) -> str:
        scope = self.scope
        return scope.name if scope is not None else ""

    @property
    def limit(self):
        return self.limit_cost if self.kind == PolicyKind.COST else self.limit_usage

    def actions_at(self, percent) -> list[str]:
        for threshold in self.thresholds:
            if threshold["percent"] == percent:
                return list(threshold["actions"])
        return []


class PolicyFiring(models.Model):
    """One threshold of one policy crossed in one period: what was measured and what was done.

    `active` while its effects hold; `blocks_creation` / `blocks_modification` say which orders the
    order checks refuse meanwhile, `paused_resources` which resources it paused (resumed on undo).
    """

    class UndoReason(models.TextChoices):
        PERIOD_ENDED = "period_ended", "The period rolled over"
        LIMIT_RAISED = "limit_raised", "The limit was raised"
        POLICY_DELETED = "policy_deleted", "The policy was deleted"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="firings")
    threshold = models.DecimalField(max_digits=8, decimal_places=2, help_text="Percent of the limit.")
    period_start = models.DateField()
    period_end = models.DateField(help_text="The first day after the period.")
    value = models.DecimalField(max_digits=32, decimal_places=10, help_text="The cost or usage measured.")
    limit = models.DecimalField(max_digits=28, decimal_places=10)
    actions = models.JSONField(default=list)
    blocks_creation = models.BooleanField(default=False)
    blocks_modification = models.BooleanField(default=False)
    paused_resources = models.JSONField(default=list, blank=True, help_text="Ids of the resources it paused.")
    terminated_resources = models.JSONField(default=list, blank=True, help_text="Ids of the resources it terminated.")
    active = models.BooleanField(default=True)
    fired_at = models.DateTimeField()
    undone_at = models.DateTimeField(null=True, blank=True)
    undo_reason = models.CharField(max_length=20, choices=UndoReason.choices, blank=True)

    class Meta:
        ordering = ["-fired_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "threshold", "period_start"],
                name="policy_firing_once_per_threshold_and_period",
                violation_error_message="The threshold already fired in this period.",
            )
        ]
        indexes = [
            models.Index(fields=["period_end"], condition=Q(active=True), name="policy_firing_active_end_idx"),
        ]

    def __str__(self):
        return f"{self.policy_id} {self.threshold}% {self.period_start}"
