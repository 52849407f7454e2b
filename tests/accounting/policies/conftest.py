from decimal import Decimal

import pytest
from django.utils import timezone

from accounting.policies import services
from accounting.services import UsageReport, usage_report
from marketplace.models import Resource, ResourceState
from tests.factories import CustomerFactory, catalogue_offering

GPU = "gpu_hours"  # usage-billed, 3 per hour in the catalogue offering's plan


@pytest.fixture
def offering(db):
    return catalogue_offering(customer=CustomerFactory(name="HPC Centre"), name="HPC allocation")


@pytest.fixture
def make_resource():
    """make_resource(project, offering, name) → an OK resource on the offering's plan."""

    def make(project, offering, name="alloc") -> Resource:
        return Resource.objects.create(
            name=name,
            slug=name,
            offering=offering,
            project=project,
            plan=offering.plans.get(),
            state=ResourceState.OK,
            limits={"cpu_k_hours": 10, "storage_tb": 1},
        )

    return make


@pytest.fixture
def resource(project, offering, make_resource):
    return make_resource(project, offering)


@pytest.fixture
def report():
    """report(resource, amount, component=GPU, month=this month): one usage report, through the real batch."""

    def report(resource, amount, *, component=GPU, month=None) -> None:
        month = month or timezone.localdate().replace(day=1)
        usage_report(reports=[UsageReport(resource.id, component, month, Decimal(amount))])

    return report


@pytest.fixture
def add_policy():
    """add_policy(actor, scope, *actions, percent=100, limit=100, **fields): a usage policy on GPU hours."""

    def add(actor, scope, *actions, percent=100, limit=100, **fields):
        fields = {"kind": "usage", "component_type": GPU, "limit_usage": limit, **fields}
        return services.policy_create(
            actor=actor, scope=scope, thresholds=[{"percent": percent, "actions": list(actions)}], **fields
        )

    return add
