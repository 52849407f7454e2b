"""`/api/marketplace-component-usages/`: month-cumulative usage, filters, visibility, fixed query count."""

import dataclasses
from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from accounting.models import ComponentUsage
from accounting.services import UsageReport, usage_report
from federation.models import RoleName, User
from marketplace.models import Resource
from tests.factories import (
    CustomerFactory,
    OfferingComponentFactory,
    OfferingFactory,
    ProjectFactory,
    UserFactory,
    grant,
)

pytestmark = pytest.mark.django_db

URL = "/api/marketplace-component-usages/"


@dataclasses.dataclass(frozen=True)
class UsageWorld:
    """A project member and twelve resources of the project, each with usage in two months."""

    member: User
    resources: list[Resource]


@pytest.fixture
def usage_world(db) -> UsageWorld:
    org = CustomerFactory(name="Site")
    offering = OfferingFactory(name="HPC", customer=org, type="site-agent", state="Active")
    OfferingComponentFactory(offering=offering, type="cpu", name="CPU k-hours", measured_unit="k-hours",
                             billing_type="limit", limit_period="")  # fmt: skip
    project = ProjectFactory(name="Physics")
    member = UserFactory(username="physicist")
    grant(member, project, RoleName.PROJECT_MEMBER)
    resources = [
        Resource.objects.create(name=f"alloc-{i}", slug=f"alloc-{i}", offering=offering, project=project, state="OK")
        for i in range(12)
    ]
    for i, resource in enumerate(resources):
        usage_report(reports=[
            UsageReport(resource.id, "cpu", date(2026, 10, 1), Decimal(i)),
            UsageReport(resource.id, "cpu", date(2026, 11, 1), Decimal(i) + Decimal("0.5")),
            UsageReport(resource.id, "cpu", date(2026, 11, 1), Decimal("0.1"), username="alice"),
        ])  # fmt: skip
    return UsageWorld(member=member, resources=resources)


def test_a_new_report_replaces_the_month_and_a_decrease_is_kept_but_flagged(usage_world):
    resource = usage_world.resources[5]
    usage_report(reports=[UsageReport(resource.id, "cpu", date(2026, 11, 15), Decimal("7.25"))])
    row = ComponentUsage.objects.get(resource=resource, billing_period=date(2026, 11, 1), username="")
    assert (row.usage, row.decreased) == (Decimal("7.25"), False)
    usage_report(reports=[UsageReport(resource.id, "cpu", date(2026, 11, 1), Decimal("3"))])
    row.refresh_from_db()
    assert (row.usage, row.decreased, row.previous_usage) == (Decimal("3"), True, Decimal("7.25"))
    assert ComponentUsage.objects.filter(resource=resource, billing_period=date(2026, 11, 1), username="").count() == 1


def test_filters_and_fields(api, usage_world):
    client = api.as_user(usage_world.member)
    rows = client.get(URL, {"resource_uuid": usage_world.resources[3].uuid, "page_size": 50}).json()
    assert {(r["billing_period"], float(r["usage"])) for r in rows} == {("2026-10-01", 3.0), ("2026-11-01", 3.5)}
    assert rows[0]["name"] == "CPU k-hours" and rows[0]["measured_unit"] == "k-hours" and rows[0]["type"] == "cpu"
    november = client.get(URL, {"date_after": "2026-11-01", "date_before": "2026-11-30", "page_size": 50})
    assert november["X-Result-Count"] == "12"
    assert client.get(URL, {"username": "alice"})["X-Result-Count"] == "12"
    assert client.get(URL, {"type": "gpu"})["X-Result-Count"] == "0"
    assert client.get(URL, {"date_after": "November"}).status_code == 400
    assert client.get(URL, {"resource_uuid": "not-a-uuid"}).status_code == 400


def test_usage_is_visible_only_with_the_resource(api, usage_world, outsider):
    assert api.as_user(outsider).get(URL)["X-Result-Count"] == "0"
    assert api.as_user(None).get(URL).status_code == 401


@pytest.mark.parametrize("page_size", [3, 20])
def test_query_count_does_not_grow_with_page_size(api, usage_world, django_assert_num_queries, page_size):
    client = api.as_user(usage_world.member)
    with django_assert_num_queries(3):  # token + count + page (component name and unit are subqueries)
        answer = client.get(URL, {"page_size": page_size})
    assert len(answer.json()) == min(page_size, 24)


def test_a_report_refreshes_the_resource_current_usage_of_this_month(usage_world):
    resource = usage_world.resources[0]
    quiet = Resource.objects.create(name="quiet", slug="quiet", offering=resource.offering, project=resource.project,
                                    state="OK", current_usages={"cpu": 4})  # fmt: skip
    month = timezone.localdate().replace(day=1)
    usage_report(reports=[
        UsageReport(resource.id, "cpu", month, Decimal("0.1234567891")),
        UsageReport(resource.id, "gpu", month, Decimal("3")),
        UsageReport(resource.id, "cpu", month, Decimal("9"), username="alice"),
        UsageReport(quiet.id, "cpu", date(2020, 1, 1), Decimal("99")),
    ])  # fmt: skip
    resource.refresh_from_db()
    assert resource.current_usages == {"cpu": 0.1234567891, "gpu": 3}
    quiet.refresh_from_db()
    assert quiet.current_usages == {"cpu": 4}  # no usage this month: kept as it was
