from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from marketplace.models import Offering, OfferingComponent, Plan, PlanComponent
from tests.factories import CustomerFactory


class OfferingFactory(DjangoModelFactory):
    class Meta:
        model = Offering

    name = factory.Sequence(lambda n: f"Offering {n}")
    customer = factory.SubFactory(CustomerFactory)
    type = "manual"
    state = "Active"


class OfferingComponentFactory(DjangoModelFactory):
    class Meta:
        model = OfferingComponent

    offering = factory.SubFactory(OfferingFactory)
    type = factory.Sequence(lambda n: f"component_{n}")
    name = factory.LazyAttribute(lambda c: c.type)
    billing_type = "limit"
    limit_period = "total"


class PlanFactory(DjangoModelFactory):
    class Meta:
        model = Plan

    offering = factory.SubFactory(OfferingFactory)
    name = factory.Sequence(lambda n: f"Plan {n}")


class PlanComponentFactory(DjangoModelFactory):
    class Meta:
        model = PlanComponent

    plan = factory.SubFactory(PlanFactory)
    component = factory.SubFactory(OfferingComponentFactory)
    price = Decimal("1")


def catalogue_offering(**kwargs) -> Offering:
    """An active offering with two limit components, one usage component and a priced plan."""
    offering = OfferingFactory(**kwargs)
    cpu = OfferingComponentFactory(
        offering=offering, type="cpu_k_hours", min_value=1, max_value=1000, default_limit=10, measured_unit="k-hours"
    )
    storage = OfferingComponentFactory(
        offering=offering, type="storage_tb", min_value=0, max_value=100, default_limit=1
    )
    gpu = OfferingComponentFactory(offering=offering, type="gpu_hours", billing_type="usage", limit_period="")
    plan = PlanFactory(offering=offering, name="Standard")
    PlanComponentFactory(plan=plan, component=cpu, price=Decimal("2"))
    PlanComponentFactory(plan=plan, component=storage, price=Decimal("5"))
    PlanComponentFactory(plan=plan, component=gpu, price=Decimal("3"))
    return offering
