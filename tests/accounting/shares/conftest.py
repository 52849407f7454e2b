from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounting.models import ComponentUsage
from accounting.shares import services as shares
from federation.models import RoleName
from marketplace import services
from tests.factories import CustomerFactory, UserFactory, catalogue_offering, grant


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def offering(db):
    """Limits of cpu_k_hours (1..1000, unit k-hours) and storage_tb; gpu_hours billed by usage."""
    return catalogue_offering(customer=CustomerFactory(name="HPC Centre"), name="HPC allocation")


@pytest.fixture
def plan(offering):
    return offering.plans.get()


@pytest.fixture
def owner(customer):
    user = UserFactory(username="owner")
    grant(user, customer, RoleName.CUSTOMER_OWNER)
    return user


@pytest.fixture
def customer_share(customer, offering, today):
    """grant(amount, start=-30 days, end=+300 days, component=cpu_k_hours) → a customer share, granted by the system."""

    def make(amount, *, start=-30, end=300, component="cpu_k_hours", of=None):
        return shares.share_grant(
            actor=None, customer=of or customer, offering=offering, component_type=component, amount=Decimal(amount),
            start_date=today + timedelta(days=start), end_date=today + timedelta(days=end),
        )  # fmt: skip

    return make


@pytest.fixture
def project_share(today):
    """project_share(parent, project, amount, start=None, end=None) → a project share cut by the system."""

    def make(parent, project, amount, *, start=None, end=None):
        return shares.share_divide(
            actor=None, parent=parent, project=project, amount=Decimal(amount),
            start_date=None if start is None else today + timedelta(days=start),
            end_date=None if end is None else today + timedelta(days=end),
        )  # fmt: skip

    return make


@pytest.fixture
def place(offering, plan):
    """place(project, cpu, actor=None) → a create order asking for `cpu` k-hours."""

    def place(project, cpu, *, actor=None, name="Allocation"):
        return services.order_create(
            actor=actor, project=project, offering=offering, plan=plan,
            attributes={"name": name}, limits={"cpu_k_hours": cpu, "storage_tb": 1},
        )  # fmt: skip

    return place


@pytest.fixture
def running(place):
    """running(project, cpu) → a resource in state OK holding `cpu` k-hours."""

    def running(project, cpu, *, name="Allocation"):
        order = place(project, cpu, name=name)
        order = services.order_approve_by_provider(order=order, actor=None)
        return services.order_set_state_done(order=order, actor=None, backend_id=f"b-{order.uuid}").resource

    return running


@pytest.fixture
def report_usage(today):
    """report_usage(resource, amount, month=this month's first day) → a whole-resource usage row of cpu_k_hours."""

    def report(resource, amount, *, month=None):
        return ComponentUsage.objects.create(
            resource=resource, component_type="cpu_k_hours", billing_period=month or today.replace(day=1),
            usage=Decimal(amount), reported_at=timezone.now(),
        )  # fmt: skip

    return report
