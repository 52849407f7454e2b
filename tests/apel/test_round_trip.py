"""Round trip: usage in our database → APEL export → import into a second, empty database → the same usage."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from apel.models import ApelMapping, ApelProjectVO
from apel.services import mapping_save
from federation.models import Project
from protocol.messages import UsageRecord
from providers.services import usage_records_import
from tests.factories import OfferingComponentFactory, ProjectFactory
from tests.providers.harness import wait_for
from tests.providers.stack import build_stack, stop_stack

from .second_db import SecondDatabase, usage_rows

MAPPING = {
    "kind": "hpc",
    "site_name": "SITE-RT",
    "service": "login.site-rt.example.org",
    "benchmark_type": "HEPscore23",
    "benchmark_value": "12.5",
    "components": {
        "cpu": {"field": "CpuDuration", "factor": "3600"},
        "wall_hours": {"field": "WallDuration", "factor": "3600"},
    },
}


def _push(provider, resource, component: str, month: date, amount: str, username: str = "", cursor: int = 1):
    """Usage through the provider-facing ingestion path (what the push API and the pulls call)."""
    record = UsageRecord.from_dict(
        {
            "cursor": cursor,
            "resource_uuid": str(resource.uuid),
            "backend_id": resource.backend_id,
            "component_type": component,
            "billing_month": month.isoformat(),
            "amount": amount,
            "username": username,
        }
    )
    changed, [answer] = usage_records_import(provider=provider, records=[record])
    assert answer["accepted"], answer


def _round_trip(tmp_path, offering, resources, months: list[date]) -> tuple[list, list]:
    mapping_save(mapping=ApelMapping(offering=offering, **{**MAPPING, "benchmark_value": Decimal("12.5")}))
    out = tmp_path / "outgoing"
    for month in months:
        call_command("apel_export", "--month", f"{month:%Y-%m}", "--out", str(out))
    before = usage_rows(resources)
    with SecondDatabase() as second:
        second.setup(
            {
                "mapping": MAPPING,
                "extra_components": ["wall_hours"],
                "resources": [(r.name, r.project.backend_id) for r in resources],
            }
        )
        output = second.manage("apel_import", str(out)).stdout
        assert " 0 rejected" in output and " 0 unmatched" in output, output
        return before, second.usage()


@pytest.mark.django_db(transaction=True)
def test_usage_survives_export_and_import_into_an_empty_database(hpc_site, tmp_path):
    """Per resource, component, month and user, with totals larger than, and equal to, their users' sum."""
    site = hpc_site.site
    OfferingComponentFactory(offering=site.offering, type="spare", billing_type="usage", limit_period="")
    ApelMapping.objects.all().delete()  # the fixture's mapping; this test maps the offering itself
    alpha, beta = hpc_site.resources["vo.alpha"], hpc_site.resources["vo.beta"]
    january, february = date(2026, 1, 1), date(2026, 2, 1)
    _push(site.provider, alpha, "cpu", january, "12.25")
    _push(site.provider, alpha, "cpu", january, "4.5", "alice")
    _push(site.provider, alpha, "cpu", january, "0.75", "bob")
    _push(site.provider, alpha, "wall_hours", january, "6")
    _push(site.provider, beta, "cpu", january, "3")
    _push(site.provider, beta, "cpu", january, "3", "carol")  # the user is all of the total
    _push(site.provider, beta, "cpu", february, "0.0025")  # 9 s
    before, after = _round_trip(tmp_path, site.offering, [alpha, beta], [january, february])
    assert len(before) == 7
    assert after == before


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_the_real_agents_usage_survives_the_round_trip(live_server, tmp_path):
    """The local backend's usage, pulled by the worker from the agent, then out as APEL and into another database."""
    stack = build_stack(live_server, tmp_path)
    try:
        OfferingComponentFactory(offering=stack.offering, type="wall_hours", billing_type="usage", limit_period="")
        Project.objects.filter(id=stack.project.id).update(backend_id="vo.genomics")
        orders = [stack.order(name, cpu=cpu) for name, cpu in (("alloc-rt-one", 400), ("alloc-rt-two", 60))]
        for order in orders:
            stack.approve(order["uuid"])
        done = stack.wait_final([o["uuid"] for o in orders])
        assert all(o.state == "done" for o in done.values()), {o.state for o in done.values()}
        resources = [stack.resource(o["uuid"]) for o in orders]

        def pulled():
            rows = usage_rows(resources)
            return rows if len(rows) == 2 else None

        rows = wait_for(pulled, timeout=60, message="the agent's usage to be pulled")
        assert {row[4] for row in rows} == {"100", "15"}  # the local backend's 0.25 of each limit
    finally:
        stop_stack(stack)
    # Two resources of one project share its VO, and APEL would add them up: the second moves to a
    # project of its own, published under a VO named for it.
    second_project = ProjectFactory(name="Genomics two", backend_id="vo.genomics-two")
    resources[1].project = second_project
    resources[1].save(update_fields=["project"])
    ApelProjectVO.objects.create(project=second_project, vo="vo.genomics-two")
    month = timezone.localdate().replace(day=1)
    before, after = _round_trip(tmp_path, stack.offering, resources, [month])
    assert after == before and len(after) == 2
