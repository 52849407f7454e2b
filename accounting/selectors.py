"""Reads of accounting that the API and the portal share."""

from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.db.models import OuterRef, QuerySet, Subquery

from marketplace.models import OfferingComponent

from .models import ComponentUsage


def component_usage_list(*, user) -> QuerySet[ComponentUsage]:
    """The usage rows `user` may see, with what the list shows of their resource and component.

    The component's name and unit come from the offering by subquery, so the list costs the same
    number of queries at any page size.
    """
    component = OfferingComponent.objects.filter(
        offering_id=OuterRef("resource__offering_id"), type=OuterRef("component_type")
    )
    return (
        ComponentUsage.objects.visible_to(user)
        .select_related("resource__offering", "resource__project__customer")
        .annotate(
            component_name=Subquery(component.values("name")[:1]),
            component_unit=Subquery(component.values("measured_unit")[:1]),
        )
    )


def resource_usage(*, user, resource, billing_period: date) -> QuerySet[ComponentUsage]:
    """The usage rows of one resource in one billing month that `user` may see, by component then user."""
    return (
        ComponentUsage.objects.visible_to(user)
        .filter(resource=resource, billing_period=billing_period)
        .order_by("component_type", "username")
    )


def monthly_usage(*, resource_ids) -> dict[tuple[int, str], list[tuple[date, Decimal]]]:
    """{(resource id, component type): [(billing month, usage), …] oldest first}: each resource's whole-
    resource usage per month over its life, in one query whatever the number of resources or months.

    The per-user rows are left out; callers pass ids already filtered by visibility.
    """
    series: dict[tuple[int, str], list[tuple[date, Decimal]]] = defaultdict(list)
    rows = (
        ComponentUsage.objects.filter(resource_id__in=resource_ids, username="")
        .order_by("resource_id", "component_type", "billing_period")
        .values_list("resource_id", "component_type", "billing_period", "usage")
    )
    for resource_id, component_type, month, usage in rows:
        series[(resource_id, component_type)].append((month, usage))
    return dict(series)
