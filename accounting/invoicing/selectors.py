"""Reads of invoicing: what a customer's month is priced from, the lists the API shows, late usage."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import ExtractMonth, ExtractYear
from django.utils import timezone

from accounting.models import ComponentUsage
from marketplace.models import Order, OrderState, OrderType, PlanComponent, Resource, ResourceState

from .models import Invoice, InvoiceItem, InvoiceState
from .pricing import Change, Lifetime, PlanTerms, Price, month_bounds

# A row is stamped when it is written but seen by others when its transaction commits: changes stamped
# less than this before an invoice was computed count as newer, so one committed late is not missed.
SETTLE = timedelta(minutes=1)


@dataclass(frozen=True)
class BilledResource:
    resource: Resource
    lifetime: Lifetime


@dataclass(frozen=True)
class MonthInputs:
    """Everything one customer's month is priced from, read in four queries."""

    resources: list[BilledResource]
    terms: dict[int | None, PlanTerms]
    usage: dict[int, dict[str, Decimal]]


def _month_start_datetime(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _finished(order: dict) -> datetime:
    return order["completed_at"] or order["modified"]


def _lifetime(resource: Resource, orders: list[dict]) -> Lifetime | None:
    """When the resource was billable, and its plan periods; None when it never ran."""
    create = [o for o in orders if o["type"] == OrderType.CREATE]
    if create and not any(o["state"] == OrderState.DONE for o in create):
        return None
    if not create and resource.state == ResourceState.CREATING:
        return None
    done = sorted((o for o in orders if o["state"] == OrderState.DONE), key=_finished)
    created = next((o for o in done if o["type"] == OrderType.CREATE), None)
    if created is not None:
        start, plan_id, limits = timezone.localdate(_finished(created)), created["plan_id"], created["limits"]
    else:
        start, plan_id, limits = timezone.localdate(resource.created), resource.plan_id, resource.limits
    terminated = next((o for o in done if o["type"] == OrderType.TERMINATE), None)
    end = None
    if terminated is not None:
        end = timezone.localdate(_finished(terminated))
    elif resource.state == ResourceState.TERMINATED:
        end = timezone.localdate(resource.modified)
    changes = tuple(
        Change(timezone.localdate(_finished(o)), o["plan_id"], o["limits"])
        for o in done
        if o["type"] == OrderType.UPDATE
    )
    return Lifetime(start=start, end=end, plan_id=plan_id, limits=limits or {}, changes=changes)


def month_inputs(*, customer_id: int, year: int, month: int) -> MonthInputs:
    first, last = month_bounds(year, month)
    before_end = _month_start_datetime(last + timedelta(1))
    resources = list(
        Resource.objects.filter(project__customer_id=customer_id, created__lt=before_end)
        .select_related("project", "offering")
        .order_by("id")
    )
    ids = [r.id for r in resources]
    orders = defaultdict(list)
    wanted = Order.objects.filter(resource_id__in=ids).filter(Q(state=OrderState.DONE) | Q(type=OrderType.CREATE))
    for order in wanted.values("resource_id", "type", "state", "completed_at", "modified", "plan_id", "limits"):
        orders[order["resource_id"]].append(order)
    billed = []
    for resource in resources:
        lifetime = _lifetime(resource, orders[resource.id])
        if lifetime is not None and lifetime.start <= last and (lifetime.end is None or lifetime.end >= first):
            billed.append(BilledResource(resource, lifetime))
    plan_ids = {b.lifetime.plan_id for b in billed} | {c.plan_id for b in billed for c in b.lifetime.changes}
    usage = _usage(ids=[b.resource.id for b in billed], first=first)
    return MonthInputs(resources=billed, terms=_plan_terms(plan_ids - {None}), usage=usage)


def _plan_terms(plan_ids: set[int]) -> dict[int | None, PlanTerms]:
    prices = defaultdict(list)
    plans = {}
    for row in PlanComponent.objects.filter(plan_id__in=plan_ids).select_related("plan", "component").order_by("id"):
        plans[row.plan_id] = row.plan
        component = row.component
        prices[row.plan_id].append(
            Price(
                component.type,
                component.billing_type,
                component.limit_period,
                component.measured_unit,
                row.price,
                row.amount,
            )  # fmt: skip
        )
    return {pid: PlanTerms(pid, plan.name, plan.unit, tuple(prices[pid])) for pid, plan in plans.items()}


def _usage(*, ids: list[int], first) -> dict[int, dict[str, Decimal]]:
    usage = defaultdict(dict)
    rows = ComponentUsage.objects.filter(resource_id__in=ids, billing_period=first, username="")
    for resource_id, component_type, amount in rows.values_list("resource_id", "component_type", "usage"):
        usage[resource_id][component_type] = amount
    return usage


def customers_to_recompute(*, year: int, month: int) -> list[int]:
    """Customers of the month whose pending invoice is older than their latest usage or finished order
    (by `SETTLE`).

    A customer with a resource in the month but no invoice for it yet is due too; a customer whose
    invoice is closed is never due (the month is frozen).
    """
    first, last = month_bounds(year, month)
    invoice = Invoice.objects.filter(customer_id=OuterRef("resource__project__customer_id"), year=year, month=month)
    fresh = invoice.filter(Q(state=InvoiceState.CREATED) | Q(modified__gte=OuterRef("modified") + SETTLE))
    by_usage = (
        ComponentUsage.objects.filter(billing_period=first, username="")
        .filter(~Exists(fresh))
        .values_list("resource__project__customer_id", flat=True)
    )
    fresh = invoice.filter(Q(state=InvoiceState.CREATED) | Q(modified__gte=OuterRef("completed_at") + SETTLE))
    by_orders = (
        Order.objects.filter(
            resource__isnull=False,
            completed_at__lt=_month_start_datetime(last + timedelta(1)),
            completed_at__gte=_month_start_datetime(first),
        )
        .filter(~Exists(fresh))
        .values_list("resource__project__customer_id", flat=True)
    )
    invoiced = set(Invoice.objects.filter(year=year, month=month).values_list("customer_id", flat=True))
    uninvoiced = set(customers_of_month(year=year, month=month)) - invoiced
    return sorted(set(by_usage) | set(by_orders) | uninvoiced)


def customers_of_month(*, year: int, month: int) -> list[int]:
    """Customers with a resource that may have run in the month, or an invoice for it."""
    first, last = month_bounds(year, month)
    with_resources = (
        Resource.objects.filter(created__lt=_month_start_datetime(last + timedelta(1)))
        .exclude(state=ResourceState.TERMINATED, modified__lt=_month_start_datetime(first))
        .values_list("project__customer_id", flat=True)
    )
    with_invoices = Invoice.objects.filter(year=year, month=month).values_list("customer_id", flat=True)
    return sorted(set(with_resources) | set(with_invoices))


def usage_after_close() -> QuerySet[ComponentUsage]:
    """Usage rows changed after the invoice of their month was closed: kept, not billed, shown to staff.

    Rows stamped up to `SETTLE` before the closing are listed too: they may have committed after it.
    """
    closed = Invoice.objects.filter(
        customer_id=OuterRef("resource__project__customer_id"),
        year=OuterRef("billing_year"),
        month=OuterRef("billing_month"),
        state=InvoiceState.CREATED,
        modified__lt=OuterRef("modified") + SETTLE,
    )
    return (
        ComponentUsage.objects.filter(username="")
        .annotate(billing_year=ExtractYear("billing_period"), billing_month=ExtractMonth("billing_period"))
        .filter(Exists(closed))
        .select_related("resource")
    )


def invoice_list(*, user) -> QuerySet[Invoice]:
    return (
        Invoice.objects.visible_to(user)
        .select_related("customer")
        .annotate(items_count=Count("items"))
        .order_by(*Invoice._meta.ordering)  # a grouped query drops the model's ordering
    )


def invoice_item_list(*, user) -> QuerySet[InvoiceItem]:
    return InvoiceItem.objects.visible_to(user).select_related("resource").annotate(invoice_uuid=F("invoice__uuid"))


def priced_lifetimes(resources: list[Resource]) -> tuple[dict[int, Lifetime], dict[int | None, PlanTerms]]:
    """{resource id: lifetime} of the resources that ran, and the terms of their plans: two queries.

    What a month of any set of resources is priced from (with the month's usage), for readers that
    are not one customer's invoice (a policy's estimated cost).
    """
    orders = defaultdict(list)
    wanted = Order.objects.filter(resource_id__in=[r.id for r in resources])
    wanted = wanted.filter(Q(state=OrderState.DONE) | Q(type=OrderType.CREATE))
    for order in wanted.values("resource_id", "type", "state", "completed_at", "modified", "plan_id", "limits"):
        orders[order["resource_id"]].append(order)
    lifetimes = {}
    for resource in resources:
        lifetime = _lifetime(resource, orders[resource.id])
        if lifetime is not None:
            lifetimes[resource.id] = lifetime
    plan_ids = {lt.plan_id for lt in lifetimes.values()} | {c.plan_id for lt in lifetimes.values() for c in lt.changes}
    return lifetimes, _plan_terms(plan_ids - {None})
