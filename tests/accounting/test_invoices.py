"""Invoices: idempotent recompute, closing and freezing, usage for a closed month, the API and its query counts."""

import dataclasses
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import DecimalField, ExpressionWrapper, F, OuterRef, Subquery, Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounting import tasks
from accounting.invoicing import selectors
from accounting.invoicing.models import Invoice, InvoiceItem, InvoiceState
from accounting.invoicing.services import (
    invoice_recompute,
    invoices_close,
    invoices_close_previous_month,
    invoices_recompute_due,
)
from accounting.models import ComponentUsage
from common.exceptions import InvalidTransition
from federation.models import Customer, Project, RoleName, User
from marketplace.models import PlanComponent, Resource
from tests.factories import (
    CustomerFactory,
    OfferingComponentFactory,
    OfferingFactory,
    PlanComponentFactory,
    PlanFactory,
    ProjectFactory,
    UserFactory,
    grant,
)

pytestmark = pytest.mark.django_db

D = Decimal
MARCH = (2026, 3)
AFTER_MARCH = date(2026, 4, 2)


@dataclasses.dataclass(frozen=True)
class Billed:
    """A customer with two projects and five resources on one plan (fixed, limit and usage prices), used in March."""

    customer: Customer
    projects: list[Project]
    resources: list[Resource]


def _usage(resource, amount, *, month=date(2026, 3, 1), username=""):
    row, _ = ComponentUsage.objects.update_or_create(
        resource=resource, component_type="cpu", billing_period=month, username=username,
        defaults={"usage": D(amount), "reported_at": timezone.now()},
    )  # fmt: skip
    return row


@pytest.fixture
def billed(customer) -> Billed:
    offering = OfferingFactory(name="HPC")
    base = OfferingComponentFactory(offering=offering, type="base", billing_type="fixed", limit_period="")
    cpu = OfferingComponentFactory(offering=offering, type="cpu", billing_type="usage", limit_period="",
                                   measured_unit="k-hours")  # fmt: skip
    storage = OfferingComponentFactory(offering=offering, type="storage", billing_type="limit", limit_period="annual")
    plan = PlanFactory(offering=offering, name="Standard")
    PlanComponentFactory(plan=plan, component=base, price=D("31"), amount=1)
    PlanComponentFactory(plan=plan, component=cpu, price=D("0.125"))
    PlanComponentFactory(plan=plan, component=storage, price=D("2"))
    projects = [ProjectFactory(customer=customer, name=name) for name in ("Climate", "Genomes")]
    resources = []
    for i in range(5):
        resource = Resource.objects.create(name=f"alloc-{i}", slug=f"alloc-{i}", offering=offering,
                                           project=projects[i % 2], plan=plan, state="OK",
                                           limits={"storage": 12})  # fmt: skip
        resources.append(resource)
    Resource.objects.filter(id__in=[r.id for r in resources]).update(created=datetime(2026, 1, 10, tzinfo=UTC))
    for i, resource in enumerate(resources):
        _usage(resource, D(i) + D("0.5"))
        _usage(resource, D("99"), username="alice")  # per-user rows are not billed again
    return Billed(customer=customer, projects=projects, resources=resources)


def _rows(invoice):
    return list(
        invoice.items.order_by("uuid").values_list("uuid", "resource_id", "component_type", "quantity", "price")
    )


def test_recompute_is_idempotent(billed):
    first = invoice_recompute(customer=billed.customer, year=2026, month=3)
    rows = _rows(first)
    assert len(rows) == 15  # five resources × fixed, usage and limit
    again = invoice_recompute(customer=billed.customer, year=2026, month=3)
    assert (again.id, again.total, _rows(again)) == (first.id, first.total, rows)
    assert Invoice.objects.count() == 1


def test_invoice_total_is_the_sum_of_its_items_and_usage_items_are_usage_rows_times_price(billed):
    invoice = invoice_recompute(customer=billed.customer, year=2026, month=3)
    assert invoice.total == invoice.items.aggregate(total=Sum("price"))["total"]
    assert invoice.total == 5 * D(31) + 5 * D(2) + sum(D(i) + D("0.5") for i in range(5)) * D("0.125")
    # The other way round: from the usage rows and the plan prices, not from the items.
    unit_price = PlanComponent.objects.filter(
        plan_id=OuterRef("resource__plan_id"), component__type=OuterRef("component_type")
    )
    from_usage = (
        ComponentUsage.objects.filter(resource__project__customer=billed.customer, billing_period=date(2026, 3, 1),
                                      username="")
        .annotate(unit_price=Subquery(unit_price.values("price")[:1]))
        .aggregate(cost=Sum(ExpressionWrapper(F("usage") * F("unit_price"), output_field=DecimalField())))["cost"]
    )  # fmt: skip
    by_items = invoice.items.filter(billing_type="usage").aggregate(cost=Sum("price"))["cost"]
    assert from_usage == by_items == D("1.5625")
    per_project = {p.uuid: D(0) for p in billed.projects}
    for item in invoice.items.all():
        per_project[item.project_uuid] += item.price
    assert sum(per_project.values()) == invoice.total


def test_recompute_costs_the_same_queries_for_more_resources(billed):
    def queries():
        with CaptureQueriesContext(connection) as context:
            invoice_recompute(customer=billed.customer, year=2026, month=3)
        return len(context)

    queries()  # the first one also creates the invoice
    few = queries()
    assert few == 10  # savepoint, lock, resources, orders, plans, usage, delete, insert, total, release
    template = billed.resources[0]
    for i in range(40):
        resource = Resource.objects.create(name=f"more-{i}", slug=f"more-{i}", offering=template.offering,
                                           project=template.project, plan=template.plan, state="OK",
                                           limits={"storage": 12})  # fmt: skip
        _usage(resource, "1")
    Resource.objects.update(created=datetime(2026, 1, 10, tzinfo=UTC))
    assert queries() == few
    assert Invoice.objects.get().items.count() == 15 + 40 * 3


def test_closing_freezes_the_month_and_later_usage_stays_on_the_usage_rows(billed, monkeypatch):
    invoice_recompute(customer=billed.customer, year=2026, month=3)
    assert invoices_close(year=2026, month=3, today=AFTER_MARCH) == 1
    invoice = Invoice.objects.get(customer=billed.customer, year=2026, month=3)
    assert invoice.state == InvoiceState.CREATED
    frozen = (invoice.total, _rows(invoice))
    monkeypatch.setattr(selectors, "SETTLE", timezone.timedelta(0))
    assert not selectors.usage_after_close().exists()

    late = _usage(billed.resources[1], "1000")
    again = invoice_recompute(customer=billed.customer, year=2026, month=3)
    assert (again.state, again.total, _rows(again)) == (InvoiceState.CREATED, *frozen)
    assert invoices_close(year=2026, month=3, today=AFTER_MARCH) == 0
    assert selectors.customers_to_recompute(year=2026, month=3) == []
    assert list(selectors.usage_after_close()) == [late]  # kept, listed for staff, not billed


def test_only_ended_months_can_be_closed(billed):
    today = date(2026, 3, 31)
    with pytest.raises(InvalidTransition, match="not ended"):
        invoices_close(year=2026, month=3, today=today)
    assert not Invoice.objects.exists()


def test_the_beat_task_recomputes_customers_whose_usage_changed(billed, monkeypatch):
    monkeypatch.setattr(selectors, "SETTLE", timezone.timedelta(0))
    assert selectors.customers_to_recompute(year=2026, month=3) == [billed.customer.id]
    other = CustomerFactory()
    assert invoices_recompute_due(today=date(2026, 3, 20)) == 2  # March's usage; February had no invoice yet
    assert selectors.customers_to_recompute(year=2026, month=3) == []
    assert selectors.customers_to_recompute(year=2026, month=2) == []
    assert not Invoice.objects.filter(customer=other).exists()
    before = Invoice.objects.get(month=3).total
    _usage(billed.resources[0], "8.5")  # was 0.5: eight more k-hours at 0.125
    assert selectors.customers_to_recompute(year=2026, month=3) == [billed.customer.id]
    assert invoices_recompute_due(today=date(2026, 3, 20)) == 1
    assert Invoice.objects.get(month=3).total == before + 1
    tasks.recompute_invoices()  # today's months: their first invoices, if the resources ran then
    assert tasks.recompute_invoices() == 0  # and nothing changed since


# -- the API -------------------------------------------------------------------------------------------------

INVOICES, ITEMS = "/api/invoices/", "/api/invoice-items/"


def test_invoice_shape_and_filters(api, billed, owner):
    invoice = invoice_recompute(customer=billed.customer, year=2026, month=3)
    client = api.as_user(owner)
    [row] = client.get(INVOICES, {"year": 2026, "month": 3, "state": "pending"}).json()
    assert row["uuid"] == str(invoice.uuid) and row["customer_uuid"] == str(billed.customer.uuid)
    assert (row["year"], row["month"], row["state"], row["currency"], row["items_count"]) == (2026, 3, "pending",
                                                                                              "EUR", 15)  # fmt: skip
    assert D(row["total"]) == invoice.total
    assert row["url"].endswith(f"/api/invoices/{invoice.uuid}/") and row["customer"].endswith(
        f"{billed.customer.uuid}/"
    )
    assert row["items"].endswith(f"/api/invoice-items/?invoice_uuid={invoice.uuid}")
    items = client.get(f"{row['items']}&page_size=50").json()
    assert len(items) == 15 and sum(D(i["price"]) for i in items) == invoice.total
    item = next(i for i in items if i["billing_type"] == "usage" and i["resource_name"] == "alloc-3")
    assert (D(item["quantity"]), D(item["unit_price"]), item["unit"], item["start"], item["end"]) == (
        D("3.5"), D("0.125"), "k-hours", "2026-03-01", "2026-03-31")  # fmt: skip
    assert item["resource_uuid"] == str(billed.resources[3].uuid) and item["project_name"] == "Genomes"
    assert client.get(INVOICES, {"state": "created"})["X-Result-Count"] == "0"
    assert client.get(INVOICES, {"customer_uuid": billed.customer.uuid})["X-Result-Count"] == "1"
    assert client.get(ITEMS, {"project_uuid": billed.projects[0].uuid})["X-Result-Count"] == "9"
    assert client.get(ITEMS, {"resource_uuid": billed.resources[0].uuid})["X-Result-Count"] == "3"
    assert client.get(INVOICES, {"customer_uuid": "nope"}).status_code == 400
    assert client.get(INVOICES, {"state": "paid"}).status_code == 400
    assert client.get(ITEMS, {"invoice_uuid": "nope"}).status_code == 400
    assert client.post(INVOICES, {}).status_code == 405


@pytest.mark.parametrize(("who", "sees"), [("owner", True), ("staff", True), ("support", True),
                                           ("manager", False), ("member", False), ("outsider", False)])  # fmt: skip
def test_invoices_are_visible_to_owners_staff_and_support(api, request, billed, who, sees):
    invoice = invoice_recompute(customer=billed.customer, year=2026, month=3)
    client = api.as_user(request.getfixturevalue(who))
    assert client.get(INVOICES)["X-Result-Count"] == ("1" if sees else "0")
    assert client.get(ITEMS)["X-Result-Count"] == ("15" if sees else "0")
    assert client.get(f"{INVOICES}{invoice.uuid}/").status_code == (200 if sees else 404)


def test_anonymous_gets_401(api, billed):
    assert api.as_user(None).get(INVOICES).status_code == 401
    assert api.as_user(None).get(ITEMS).status_code == 401


# -- query counts: a customer with 1,000 resources × 24 months ----------------------------------------------


@dataclasses.dataclass(frozen=True)
class LargeCustomer:
    owner: User
    invoices: list[Invoice]


@pytest.fixture
def large_customer(db) -> LargeCustomer:
    customer = CustomerFactory(name="Large")
    owner = UserFactory(username="large-owner")
    grant(owner, customer, RoleName.CUSTOMER_OWNER)
    project = ProjectFactory(customer=customer)
    offering = OfferingFactory()
    resources = Resource.objects.bulk_create(
        Resource(name=f"r{i}", slug=f"r{i}", offering=offering, project=project, state="OK") for i in range(1000)
    )
    months = [(2025 + m // 12, m % 12 + 1) for m in range(24)]
    invoices = Invoice.objects.bulk_create(
        Invoice(customer=customer, year=y, month=m, state="created", total=D(1000), currency="EUR") for y, m in months
    )
    for invoice in invoices:
        day = date(invoice.year, invoice.month, 1)
        InvoiceItem.objects.bulk_create(
            [InvoiceItem(invoice=invoice, resource=r, component_type="cpu", billing_type="fixed", quantity=D(1),
                         unit_price=D(1), unit="month", start=day, end=day, price=D(1), project_name=project.name,
                         project_uuid=project.uuid, resource_name=r.name, offering_name=offering.name)
             for r in resources],
            batch_size=2000,
        )  # fmt: skip
    return LargeCustomer(owner=owner, invoices=invoices)


# token + count + page; item counts are one annotation of the page query.
PINNED = {INVOICES: 3, ITEMS: 3}


def test_list_query_counts_do_not_grow_with_the_invoice(api, staff, large_customer, django_assert_num_queries):
    params = {INVOICES: {}, ITEMS: {"invoice_uuid": large_customer.invoices[5].uuid}}
    expected = {INVOICES: 24, ITEMS: 1000}
    for user in (large_customer.owner, staff):
        client = api.as_user(user)
        for endpoint, queries in PINNED.items():
            for page_size in (5, 200):
                with django_assert_num_queries(queries):
                    response = client.get(endpoint, {**params[endpoint], "page_size": page_size})
                assert response.status_code == 200
                assert response["X-Result-Count"] == str(expected[endpoint])
                assert len(response.json()) == min(page_size, expected[endpoint])


def test_detail_query_counts(api, billed, owner, django_assert_num_queries):
    invoice = invoice_recompute(customer=billed.customer, year=2026, month=3)
    client = api.as_user(owner)
    with django_assert_num_queries(2):  # token + object
        assert client.get(f"{INVOICES}{invoice.uuid}/").status_code == 200
    item = invoice.items.first()
    with django_assert_num_queries(2):
        assert client.get(f"{ITEMS}{item.uuid}/").status_code == 200


# -- the admin -----------------------------------------------------------------------------------------------


def test_admin_shows_items_and_late_usage_and_recomputes_pending_invoices(client, billed, monkeypatch):
    monkeypatch.setattr(selectors, "SETTLE", timezone.timedelta(0))
    admin = UserFactory(username="admin", is_staff=True, is_superuser=True)
    client.force_login(admin)
    march = invoice_recompute(customer=billed.customer, year=2026, month=3)
    invoices_close(year=2026, month=3, today=AFTER_MARCH)
    april = invoice_recompute(customer=billed.customer, year=2026, month=4)
    _usage(billed.resources[2], "40")  # late for March
    _usage(billed.resources[2], "8", month=date(2026, 4, 1))
    page = client.get(f"/admin/accounting/invoice/{march.id}/change/").content.decode()
    assert "alloc-2 cpu: 40" in page and "alloc-4" in page
    response = client.post("/admin/accounting/invoice/", {"action": "recompute",
                                                           "_selected_action": [march.id, april.id]})  # fmt: skip
    assert response.status_code == 302
    march.refresh_from_db()
    april.refresh_from_db()
    assert march.items.filter(billing_type="usage", resource=billed.resources[2]).get().quantity == D("2.5")
    assert april.items.filter(billing_type="usage", resource=billed.resources[2]).get().quantity == D(8)


def test_beat_runs_the_invoice_tasks(settings):
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {tasks.recompute_invoices.name, tasks.close_invoices.name} <= scheduled
    assert tasks.recompute_invoices.name == "accounting.recompute_invoices"


def test_closing_last_month_is_safe_to_repeat(billed):
    assert invoices_close_previous_month(today=AFTER_MARCH) == 1
    assert Invoice.objects.get(year=2026, month=3).state == InvoiceState.CREATED
    assert invoices_close_previous_month(today=AFTER_MARCH) == 0
    assert invoices_close_previous_month(today=date(2026, 1, 15)) == 0  # December 2025: nothing ran then
    assert not Invoice.objects.filter(year=2025).exists()
