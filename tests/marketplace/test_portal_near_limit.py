"""The near-limit scan of the dashboard and the queues (`portal.selectors.near_limit`) checks a bound in
PostgreSQL before summarising: it must find exactly what summarising every scanned resource finds, for
limits of every shape (numbers, strings, zero, negative, booleans), periods (lifetime, month) and usage
(several months, negative corrections, a percentage that only rounds up to the threshold)."""

from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from accounting import periods
from accounting.models import ComponentUsage
from accounting.summaries import usage_summaries
from marketplace.models import OfferingComponent, OrderState, Resource
from portal.charts import WARN_PERCENT
from portal.selectors import _MayReachWarning, near_limit

THIS_MONTH = timezone.localdate().replace(day=1)

# name → (limits, {months back: cpu_k_hours usage}); cpu_k_hours counts over the resource's life.
CASES = {
    "95 of 100 this month": ({"cpu_k_hours": 100}, {0: 95}),
    "50 of 100": ({"cpu_k_hours": 100}, {0: 50}),
    "90 of 100 over three months": ({"cpu_k_hours": 100}, {0: 30, 1: 30, 2: 30}),
    "rounds up to 80.00": ({"cpu_k_hours": 100}, {0: Decimal("79.996")}),
    "79.99 stays under": ({"cpu_k_hours": 100}, {0: Decimal("79.99")}),
    "a limit written as a string": ({"cpu_k_hours": "100"}, {0: 90}),
    "a zero limit": ({"cpu_k_hours": 0}, {0: 90}),
    "a boolean limit": ({"cpu_k_hours": True}, {0: 90}),
    "a negative limit and a negative usage": ({"cpu_k_hours": -5}, {0: -10}),
    "a correction back below": ({"cpu_k_hours": 100}, {0: -40, 1: 110}),
    "over, then corrected under": ({"cpu_k_hours": 100}, {0: -60, 1: 130}),
    "unused component with a limit": ({"cpu_k_hours": 100, "storage_tb": 2}, {0: 10}),
    "the monthly component near": ({"gpu_hours": 10}, {}),
}


@pytest.fixture
def resources(order_in):
    made = {}
    for index, (name, (limits, usage)) in enumerate(CASES.items()):
        resource = order_in(OrderState.DONE, attributes={"name": name}).resource
        Resource.objects.filter(id=resource.id).update(limits=limits)  # shapes the services would refuse
        rows = [("cpu_k_hours", months, amount) for months, amount in usage.items()]
        if name == "the monthly component near":
            rows = [("gpu_hours", 1, 100), ("gpu_hours", 0, 9)]  # last month's 100 is not this month's
        ComponentUsage.objects.bulk_create(
            ComponentUsage(
                resource_id=resource.id,
                component_type=kind,
                billing_period=periods.add_months(THIS_MONTH, -months),
                usage=Decimal(amount),
                reported_at=timezone.now(),
            )
            for kind, months, amount in rows
        )
        made[name] = index
    return made


def _every_summary(resources):
    everything = list(resources)
    summaries = usage_summaries(everything)
    return sorted(
        (resource.name, summary.type, summary.percent)
        for resource in everything
        for summary in summaries[resource.id]
        if summary.percent is not None and summary.percent >= WARN_PERCENT
    )


def test_the_bound_finds_what_summarising_everything_finds(resources):
    OfferingComponent.objects.filter(type="gpu_hours").update(billing_type="limit", limit_period="month")
    scanned = Resource.objects.all()
    found, count = near_limit(scanned)
    assert count == len(CASES)
    assert sorted((item.resource.name, item.summary.type, item.summary.percent) for item in found) == (
        _every_summary(scanned)
    )
    names = {item.resource.name for item in found}
    assert {"95 of 100 this month", "90 of 100 over three months", "rounds up to 80.00"} <= names
    assert {"a limit written as a string", "a negative limit and a negative usage", "the monthly component near"} <= (
        names
    )
    assert not names & {"50 of 100", "79.99 stays under", "a zero limit", "a boolean limit", "a correction back below"}


def test_the_resources_it_leaves_out_are_those_the_bound_excludes(resources):
    """Resources far from a limit are not summarised: the bound does its work (else the page reads them all)."""
    if connection.vendor != "postgresql":
        pytest.skip("the bound is PostgreSQL's; elsewhere every scanned resource is summarised")
    flags = dict(Resource.objects.annotate(may_warn=_MayReachWarning()).values_list("name", "may_warn"))
    assert flags["50 of 100"] is False and flags["a zero limit"] is False and flags["a boolean limit"] is False
    assert flags["95 of 100 this month"] is True and flags["a limit written as a string"] is True
