"""`/api/usage-reports/`: rows per group, month and component with usage, limit, cost and utilisation;
JSON and CSV, streamed; totals that equal the usage rows and the invoice items; visibility; bad input;
the admin's CSV export."""

import csv
import io
import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.test import Client

from accounting.invoicing.services import invoice_recompute
from accounting.models import ComponentUsage, Invoice, InvoiceItem
from accounting.reports import GROUPINGS
from marketplace.models import Resource
from tests.factories import (
    CustomerFactory,
    OfferingComponentFactory,
    OfferingFactory,
    PlanComponentFactory,
    PlanFactory,
    ProjectFactory,
    UserFactory,
)

URL = "/api/usage-reports/"
MONTHS = [date(2025, 11, 1), date(2025, 12, 1), date(2026, 1, 1)]
RANGE = {"start": "2025-11", "end": "2026-01"}


def _resource(offering, project, limits, **fields):
    resource = Resource.objects.create(
        name=f"r-{Resource.objects.count()}", slug=f"r-{Resource.objects.count()}", offering=offering,
        project=project, state="OK", limits=limits, **fields,
    )  # fmt: skip
    Resource.objects.filter(pk=resource.pk).update(created=datetime(2025, 6, 1, tzinfo=UTC))
    return resource


def _item(resource, month: date, component_type: str, price: str):
    invoice, _ = Invoice.objects.get_or_create(
        customer=resource.project.customer, year=month.year, month=month.month, defaults={"currency": "EUR"}
    )
    return InvoiceItem.objects.create(
        invoice=invoice, resource=resource, component_type=component_type, billing_type="usage",
        quantity=Decimal(1), unit_price=Decimal(price), start=month, end=month.replace(day=28), price=Decimal(price),
        project_name=resource.project.name, project_uuid=resource.project.uuid, resource_name=resource.name,
        offering_name=resource.offering.name,
    )  # fmt: skip


@pytest.fixture
def world(project, member):
    """Two customers; monthly, quarterly, annual and lifetime (with an end date) limits; usage in three
    months and one month outside the range; an invoice item per usage row and one fixed-price item."""
    provider = CustomerFactory(name="HPC Centre")
    offering = OfferingFactory(customer=provider, name="HPC")
    for kind in ("month", "quarter", "annual", "total"):
        OfferingComponentFactory(offering=offering, type=kind, limit_period=kind)
    other_project = ProjectFactory(customer=CustomerFactory(name="Other University"), oecd_fos_2007_code="1.2")
    project.oecd_fos_2007_code = "1.5"
    project.save()
    limits = {"month": 100, "quarter": 300, "annual": 1200, "total": 700}
    mine = [_resource(offering, project, limits, end_date=date(2026, 12, 31)) for _ in range(2)]
    theirs = _resource(offering, other_project, limits)
    for resource in [*mine, theirs]:
        for index, month in enumerate([date(2025, 10, 1), *MONTHS]):
            for kind in limits:
                ComponentUsage.objects.create(
                    resource=resource, component_type=kind, billing_period=month, usage=Decimal(10 + index) / 4,
                    reported_at=datetime(2026, 1, 20, tzinfo=UTC),
                )  # fmt: skip
                _item(resource, month, kind, f"{index + 1}.5")
    _item(mine[0], MONTHS[1], "fixed-fee", "99.99")
    return {"mine": mine, "theirs": theirs, "project": project, "member": member}


def _json(client, **params):
    response = client.get(URL, {**RANGE, **params})
    assert response.status_code == 200 and response.streaming
    return json.loads(b"".join(response.streaming_content))


def _usage_rows(resources=None):
    rows = ComponentUsage.objects.filter(username="", billing_period__gte=MONTHS[0], billing_period__lte=MONTHS[-1])
    return rows if resources is None else rows.filter(resource__in=resources)


@pytest.mark.parametrize("group_by", list(GROUPINGS))
def test_report_totals_equal_the_usage_rows_and_the_invoice_items(api, world, staff, group_by):
    rows = _json(api.as_user(staff), group_by=group_by)
    usage = sum(Decimal(r["usage"]) for r in rows if r["usage"] is not None)
    assert usage == _usage_rows().aggregate(total=Sum("usage"))["total"]
    cost = sum(Decimal(r["cost"]) for r in rows if r["cost"] is not None)
    items = InvoiceItem.objects.filter(invoice__year__gte=2025).exclude(invoice__year=2025, invoice__month=10)
    assert cost == items.aggregate(total=Sum("price"))["total"]
    keys = [(r["group"], r["month"], r["component_type"]) for r in rows]
    assert len(keys) == len(set(keys))


def test_rows_per_customer_and_month(api, world, staff):
    rows = _json(api.as_user(staff), group_by="customer")
    customer = world["project"].customer
    mine = [r for r in rows if r["group"] == str(customer.uuid)]
    assert {r["group_name"] for r in mine} == {customer.name}
    row = next(r for r in mine if r["month"] == "2025-12" and r["component_type"] == "month")
    assert (row["usage"], row["limit"], row["cost"]) == ("6", "200", "7")  # two resources: 3 used of 100, 3.5 each
    assert row["utilisation"] == "0.03"
    shares = {r["component_type"]: r["limit"] for r in mine if r["month"] == "2025-12"}
    # quarter 300 → 100 a month, annual 1200 → 100, total 700 over June 2025 to December 2026 (19 months)
    assert Decimal(shares["quarter"]) == 200 and Decimal(shares["annual"]) == 200
    assert Decimal(shares["total"]) == pytest.approx(Decimal(2 * 700) / 19, abs=Decimal("1e-6"))
    fee = next(r for r in mine if r["component_type"] == "fixed-fee")
    assert (fee["usage"], fee["limit"], fee["cost"], fee["month"]) == (None, None, "99.99", "2025-12")
    assert rows[-1] == fee  # rows with a cost but no usage come last


def test_a_lifetime_limit_without_end_date_has_no_monthly_share(api, world, staff):
    rows = _json(api.as_user(staff), group_by="project")
    theirs = [r for r in rows if r["group"] == str(world["theirs"].project.uuid) and r["component_type"] == "total"]
    assert theirs and all(r["limit"] is None and r["utilisation"] is None for r in theirs)


def test_oecd_and_component_groups_are_named(api, world, staff):
    rows = _json(api.as_user(staff), group_by="oecd")
    assert {(r["group"], r["group_name"]) for r in rows} >= {
        ("1.5", "Earth and related environmental sciences"),
        ("1.2", "Computer and information sciences"),
    }
    components = {r["group"] for r in _json(api.as_user(staff), group_by="component")}
    assert components == {"month", "quarter", "annual", "total", "fixed-fee"}


def test_visibility_follows_the_resources(api, world, outsider):
    rows = _json(api.as_user(world["member"]), group_by="project")
    assert {r["group"] for r in rows} == {str(world["project"].uuid)}
    usage = sum(Decimal(r["usage"]) for r in rows if r["usage"])
    assert usage == _usage_rows(world["mine"]).aggregate(total=Sum("usage"))["total"]
    assert _json(api.as_user(outsider)) == []
    assert api.as_user(None).get(URL).status_code == 401


def test_csv_carries_the_same_rows(api, world, staff):
    client = api.as_user(staff)
    response = client.get(URL, {**RANGE, "group_by": "offering", "format": "csv"})
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert "usage-offering-2025-11-2026-01.csv" in response["Content-Disposition"]
    table = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    as_json = _json(client, group_by="offering")
    assert len(table) == len(as_json)
    assert [r["usage"] for r in table] == [r["usage"] or "" for r in as_json]
    assert [r["cost"] for r in table] == [r["cost"] or "" for r in as_json]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"group_by": "planet"}, "group_by"),
        ({"format": "xml"}, "format"),
        ({"start": "2026-13"}, "start"),
        ({"start": "Jan 2026"}, "start"),
        ({"end": "2026-1"}, "end"),
        ({"start": "2026-02", "end": "2026-01"}, "start"),
        ({"start": "2010-01", "end": "2026-01"}, "end"),
    ],
)
def test_bad_parameters_are_refused_naming_the_field(api, staff, params, field):
    response = api.as_user(staff).get(URL, params)
    assert response.status_code == 400 and field in response.json()


def test_query_count_does_not_grow_with_the_rows(api, world, staff, django_assert_num_queries):
    client = api.as_user(staff)
    for months in (RANGE, {"start": "2025-12", "end": "2025-12"}):
        with django_assert_num_queries(3):  # token + costs + usage
            rows = _json(client, group_by="project", **months)
        assert rows


def test_staff_export_the_report_from_the_admin(world):
    client = Client()
    client.force_login(UserFactory(username="admin", is_staff=True, is_superuser=True))
    response = client.get("/admin/accounting/componentusage/report/", {**RANGE, "group_by": "provider"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert {r["group_name"] for r in table} == {"HPC Centre"}
    assert client.get("/admin/accounting/componentusage/report/", {"group_by": "x"}).status_code == 400
    changelist = "/admin/accounting/componentusage/"
    selected = [str(pk) for pk in _usage_rows().values_list("pk", flat=True)[:3]]
    response = client.post(changelist, {"action": "export_usage_report", "_selected_action": selected})
    assert response.status_code == 302 and "/report/?group_by=customer" in response["Location"]


def test_the_report_agrees_with_the_invoice_computed_from_the_same_usage(api, customer, staff):
    """An invoice computed by the invoicing service, then the report of its month: the costs per project
    add up to the invoice's total, and the usage to the usage rows."""
    offering = OfferingFactory(name="HPC")
    base = OfferingComponentFactory(offering=offering, type="base", billing_type="fixed", limit_period="")
    cpu = OfferingComponentFactory(offering=offering, type="cpu", billing_type="usage", limit_period="")
    plan = PlanFactory(offering=offering, name="Standard")
    PlanComponentFactory(plan=plan, component=base, price=Decimal("31"), amount=1)
    PlanComponentFactory(plan=plan, component=cpu, price=Decimal("0.125"))
    projects = [ProjectFactory(customer=customer, name=name) for name in ("Climate", "Genomes")]
    for index in range(4):
        resource = _resource(offering, projects[index % 2], {}, plan=plan)
        ComponentUsage.objects.create(
            resource=resource, component_type="cpu", billing_period=date(2026, 3, 1), usage=Decimal(index * 8 + 1),
            reported_at=datetime(2026, 3, 30, tzinfo=UTC),
        )  # fmt: skip
    invoice = invoice_recompute(customer=customer, year=2026, month=3)
    assert invoice.total > 0
    rows = _json(api.as_user(staff), group_by="project", start="2026-03", end="2026-03")
    assert {r["group"] for r in rows} == {str(p.uuid) for p in projects}
    assert sum(Decimal(r["cost"]) for r in rows if r["cost"]) == invoice.total
    for project in projects:
        items = InvoiceItem.objects.filter(invoice=invoice, project_uuid=project.uuid).aggregate(total=Sum("price"))
        assert sum(Decimal(r["cost"]) for r in rows if r["group"] == str(project.uuid) and r["cost"]) == items["total"]
    used = ComponentUsage.objects.filter(billing_period=date(2026, 3, 1)).aggregate(total=Sum("usage"))["total"]
    assert sum(Decimal(r["usage"]) for r in rows if r["usage"]) == used
