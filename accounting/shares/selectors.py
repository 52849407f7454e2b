"""Reads of shares: the trees their figures are computed from, in three queries for any number of trees."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import OuterRef, QuerySet, Subquery, Sum

from accounting.models import ComponentUsage
from marketplace.models import OPEN_ORDER_STATES, OfferingComponent, Order, OrderType, Resource, ResourceState

from . import arithmetic
from .arithmetic import Draw, Figures, MonthUsage, Tree
from .models import Share


def amount_of(value) -> Decimal:
    try:
        return Decimal(str(value)) if value is not None else arithmetic.ZERO
    except ArithmeticError:
        return arithmetic.ZERO


def share_trees(roots: list[Share], *, excluding: int | None = None) -> dict[int, Tree]:
    """{root id: its tree} for these customer shares: their project shares, the limits live resources hold
    and the monthly usage, in three queries whatever the number of roots, projects and resources.

    `excluding` leaves one resource's limits out (the one an update order is about to change).
    """
    if not roots:
        return {}
    trees = {root.id: Tree(root=root) for root in roots}
    for child in Share.objects.filter(parent_id__in=list(trees)).select_related("project").order_by("id"):
        trees[child.parent_id].children.append(child)
    keys = defaultdict(list)  # (offering, customer) → the trees in it (one per component and period)
    for root in roots:
        keys[(root.offering_id, root.customer_id)].append(trees[root.id])
    offerings = {root.offering_id for root in roots}
    customers = {root.customer_id for root in roots}
    components = {root.component_type for root in roots}
    pending = Order.objects.filter(resource=OuterRef("pk"), type=OrderType.UPDATE, state__in=OPEN_ORDER_STATES).values(
        "limits"
    )[:1]
    resources = (
        Resource.objects.filter(offering_id__in=offerings, project__customer_id__in=customers)
        .exclude(state=ResourceState.TERMINATED)
        .annotate(pending_limits=Subquery(pending))
        .values_list("id", "project_id", "project__customer_id", "offering_id", "limits", "pending_limits")
    )
    for resource_id, project_id, customer_id, offering_id, limits, pending_limits in resources:
        if resource_id == excluding:
            continue
        for tree in keys.get((offering_id, customer_id), ()):
            component = tree.root.component_type
            held = max(amount_of((limits or {}).get(component)), amount_of((pending_limits or {}).get(component)))
            if held:
                tree.draws.append(Draw(resource_id, project_id, held))
    first = min(arithmetic.month_start(root.start_date) for root in roots)
    last = max(root.end_date for root in roots)
    usage = (
        ComponentUsage.objects.filter(
            username="",
            resource__offering_id__in=offerings,
            resource__project__customer_id__in=customers,
            component_type__in=components,
            billing_period__gte=first,
            billing_period__lte=last,
        )
        .values_list(
            "resource__offering_id",
            "resource__project__customer_id",
            "resource__project_id",
            "component_type",
            "billing_period",
        )
        .annotate(total=Sum("usage"))
        .order_by()
    )
    for offering_id, customer_id, project_id, component, month, total in usage:
        for tree in keys.get((offering_id, customer_id), ()):
            if tree.root.component_type == component:
                tree.usage.append(MonthUsage(project_id, month, total))
    return trees


@dataclass(frozen=True)
class ShareDetails:
    """What a list of shares shows beyond its rows: each share's figures and each customer share's children."""

    figures: dict[int, Figures]
    children: dict[int, list[Share]]


def share_details(shares: list[Share], *, today: date) -> ShareDetails:
    """Figures and children for these shares (project shares with `parent` loaded), in three queries."""
    roots = {}
    for share in shares:
        root = share if share.parent_id is None else share.parent
        roots[root.id] = root
    figures, children = {}, {}
    for root_id, tree in share_trees(list(roots.values())).items():
        children[root_id] = tree.children
        for node in (tree.root, *tree.children):
            figures[node.id] = arithmetic.figures(tree, node, today=today)
    return ShareDetails(figures=figures, children=children)


def share_list(*, user) -> QuerySet[Share]:
    unit = OfferingComponent.objects.filter(offering_id=OuterRef("offering_id"), type=OuterRef("component_type"))
    return (
        Share.objects.visible_to(user)
        .select_related("offering", "customer", "project", "parent")
        .annotate(measured_unit=Subquery(unit.values("measured_unit")[:1]))
    )


def current_roots(*, customer_id: int, offering_id: int, component_types, lock: bool = False) -> list[Share]:
    """The customer's shares of these components of the offering, of every period; locked when asked."""
    rows = Share.objects.roots().filter(
        customer_id=customer_id, offering_id=offering_id, component_type__in=list(component_types)
    )
    if lock:
        rows = rows.select_for_update()
    return list(rows.order_by("component_type", "start_date", "id"))
