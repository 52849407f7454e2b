import dataclasses
from decimal import Decimal

import pytest

from apel.models import ApelMapping
from apel.services import mapping_save
from marketplace.models import Resource
from tests.factories import OfferingComponentFactory, ProjectFactory, Site, make_provider


@dataclasses.dataclass(frozen=True)
class ApelSite:
    """A provider's offering mapped to APEL, with one resource per VO (its project's backend_id)."""

    site: Site
    mapping: ApelMapping
    resources: dict  # VO → Resource


def _resources(site: Site, vos: tuple[str, ...]) -> dict:
    resources = {}
    for vo in vos:
        project = ProjectFactory(name=f"Project {vo}", backend_id=vo)
        resources[vo] = Resource.objects.create(
            name=f"alloc {vo}",
            slug=f"alloc-{vo.replace('.', '-')}",
            offering=site.offering,
            project=project,
            state="OK",
            backend_id=f"os-{vo}",
        )
    return resources


def make_hpc_site(slug: str = "site-a", site_name: str = "SITE-A") -> ApelSite:
    site = make_provider(slug)
    OfferingComponentFactory(offering=site.offering, type="wall_hours", billing_type="usage", limit_period="")
    mapping = mapping_save(
        mapping=ApelMapping(
            offering=site.offering,
            kind="hpc",
            site_name=site_name,
            service=f"ce.{slug}.example.org",
            benchmark_type="HEPscore23",
            benchmark_value=Decimal("10"),
            components={
                "cpu": {"field": "CpuDuration", "factor": "3600"},
                "wall_hours": {"field": "WallDuration", "factor": "3600"},
            },
        )
    )
    return ApelSite(site=site, mapping=mapping, resources=_resources(site, ("vo.alpha", "vo.beta")))


def make_cloud_site(slug: str = "cloud-a", site_name: str = "CLOUD-A") -> ApelSite:
    site = make_provider(slug)
    OfferingComponentFactory(offering=site.offering, type="ram_gb_hours", billing_type="usage", limit_period="")
    mapping = mapping_save(
        mapping=ApelMapping(
            offering=site.offering,
            kind="cloud",
            site_name=site_name,
            service="https://keystone.cloud-a.example.org:5000/v3",
            components={
                "cpu": {"field": "CpuDuration", "factor": "3600"},
                "ram_gb_hours": {"field": "Memory", "factor": "1024"},
            },
        )
    )
    return ApelSite(site=site, mapping=mapping, resources=_resources(site, ("vo.gamma", "vo.delta")))


@pytest.fixture
def hpc_site(db) -> ApelSite:
    return make_hpc_site()


@pytest.fixture
def cloud_site(db) -> ApelSite:
    return make_cloud_site()
