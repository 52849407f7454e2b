"""The one set of builders for test data: people and structure, the catalogue, and providers.

Fixtures, tests and benches build rows through these, never with `Model.objects.create` by hand,
so a new required field is added in one place.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from federation.models import Customer, Project, Role, RoleGrant, User
from federation.models.roles import ensure_roles
from marketplace.models import Offering, OfferingComponent, Plan, PlanComponent
from protocol.keys import generate_private_key, jwks, public_jwk
from providers.models import Provider, ProviderOffering

# -- people and structure ------------------------------------------------------------------------


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Faker("name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", "secret-pass-123")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class CustomerFactory(DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Customer {n}")
    slug = factory.Sequence(lambda n: f"customer-{n}")
    abbreviation = factory.Sequence(lambda n: f"C{n}")


class ProjectFactory(DjangoModelFactory):
    class Meta:
        model = Project

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Sequence(lambda n: f"Project {n}")
    slug = factory.Sequence(lambda n: f"project-{n}")


def grant(user, scope, role_name, **kwargs) -> RoleGrant:
    """Give `user` the role directly (fixtures only; the API goes through services)."""
    ensure_roles()  # a transactional test before this one may have flushed them
    field = "customer" if isinstance(scope, Customer) else "project"
    return RoleGrant.objects.create(user=user, role=Role.objects.get(name=role_name), **{field: scope}, **kwargs)


# -- the catalogue -------------------------------------------------------------------------------


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


def agent_offering(*, customer: Customer, component: dict | None = None, price=None, **fields) -> Offering:
    """An active offering a site agent runs: one limit component (`cpu` unless `component` says) and a
    plan named Default, which prices the component when `price` is given."""
    offering = OfferingFactory(customer=customer, type="site-agent", **fields)
    limit = OfferingComponentFactory(
        offering=offering,
        **{"type": "cpu", "name": "CPU", "billing_type": "limit", "limit_period": "", **(component or {})},
    )
    plan = PlanFactory(offering=offering, name="Default")
    if price is not None:
        PlanComponentFactory(plan=plan, component=limit, price=price, amount=0)
    return offering


# -- providers -----------------------------------------------------------------------------------


class ProviderFactory(DjangoModelFactory):
    class Meta:
        model = Provider

    slug = factory.Sequence(lambda n: f"site-{n}")
    name = factory.LazyAttribute(lambda p: p.slug)
    domain = "127.0.0.1:9"  # nothing listens there
    https = False
    env = "test"
    customer = factory.SubFactory(CustomerFactory)


class ProviderOfferingFactory(DjangoModelFactory):
    class Meta:
        model = ProviderOffering

    offering = factory.SubFactory(OfferingFactory, type="site-agent")
    provider = factory.SubFactory(ProviderFactory)


class SiteKeys:
    """A provider's signing key, its key id and its public JWKS."""

    def __init__(self, slug: str):
        self.slug = slug
        self.kid = f"{slug}-1"
        self.key = generate_private_key()

    @property
    def jwks(self) -> dict:
        return jwks(public_jwk(self.key, self.kid))


@dataclasses.dataclass(frozen=True)
class Site:
    """A registered provider, the keys it signs with, and the offering it runs."""

    provider: Provider
    keys: SiteKeys
    offering: Offering


def make_provider(slug: str, *, domain: str = "127.0.0.1:9") -> Site:
    """A provider of its own organisation, running an auto-approved agent offering (cpu, 1 to 1000)."""
    keys = SiteKeys(slug)
    org = CustomerFactory(name=f"{slug} org")
    provider = ProviderFactory(slug=slug, domain=domain, customer=org, jwks=keys.jwks)
    offering = agent_offering(
        customer=org, name=f"{slug} HPC", auto_approve=True, component={"min_value": 1, "max_value": 1000}
    )
    ProviderOfferingFactory(offering=offering, provider=provider)
    return Site(provider=provider, keys=keys, offering=offering)
