"""Reads of policies: which policies a usage batch concerns, what each measures, the API's lists.

`policy_measures` works on any number of policies in a fixed number of queries: one grouped query
for the usage policies (the whole-resource monthly rows of their components, grouped by project,
customer, offering, component and month), and for the cost policies four: their scopes' resources,
those resources' orders and plans (`invoicing.selectors.priced_lifetimes`) and their monthly usage.
The cost is then priced in memory by `invoicing.pricing`, month by month, as the invoices are.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounting import periods
from accounting.invoicing.pricing import lines_for_month
from accounting.invoicing.selectors import priced_lifetimes
from accounting.models import ComponentUsage
from marketplace.models import Resource

from .models import Policy, PolicyFiring, PolicyKind, PolicyScope


def policies_of_resources(resource_ids: Iterable[int], *, lock: bool) -> list[Policy]:
    """The policies limiting the resources' projects, customers or offerings, with their scope objects, in one
    query; locked (in id order) when asked."""
    resources = Resource.objects.filter(id__in=list(resource_ids))
    rows = Policy.objects.filter(
        Q(project_id__in=resources.values("project_id"))
        | Q(customer_id__in=resources.values("project__customer_id"))
        | Q(offering_id__in=resources.values("offering_id"))
    ).select_related("project__customer", "customer", "offering__customer")
    if lock:
        rows = rows.select_for_update(of=("self",))
    return list(rows.order_by("id"))


def current_period(policy: Policy, today: date) -> periods.Period:
    return periods.period_containing(policy.period, today)


def _scope_key(policy: Policy) -> tuple[str, int]:
    return policy.scope_type, getattr(policy, f"{policy.scope_type}_id")


def _covers(policy: Policy, project_id: int, customer_id: int, offering_id: int) -> bool:
    return _scope_key(policy) in {("project", project_id), ("customer", customer_id), ("offering", offering_id)}


def policy_measures(policies: list[Policy], *, today: date | None = None) -> dict[int, Decimal]:
    """{policy id: the cost or usage of its scope in its current period}, in a fixed number of queries."""
    today = today or timezone.localdate()
    measures = {policy.id: Decimal(0) for policy in policies}
    usage_policies = [p for p in policies if p.kind == PolicyKind.USAGE]
    cost_policies = [p for p in policies if p.kind == PolicyKind.COST]
    if usage_policies:
        _measure_usage(usage_policies, today, measures)
    if cost_policies:
        _measure_cost(cost_policies, today, measures)
    return measures


def _resources_of(policies: list[Policy], prefix: str = "") -> Q:
    """The resources (at `prefix`) in the policies' projects, customers and offerings."""
    keys = defaultdict(set)
    for policy in policies:
        kind, key = _scope_key(policy)
        keys[kind].add(key)
    return (
        Q(**{f"{prefix}project_id__in": keys[PolicyScope.PROJECT]})
        | Q(**{f"{prefix}project__customer_id__in": keys[PolicyScope.CUSTOMER]})
        | Q(**{f"{prefix}offering_id__in": keys[PolicyScope.OFFERING]})
    )


def _measure_usage(policies: list[Policy], today: date, measures: dict[int, Decimal]) -> None:
    first = min(current_period(p, today).first_month for p in policies)
    rows = (
        ComponentUsage.objects.filter(
            _resources_of(policies, "resource__"),
            username="",
            billing_period__gte=first,
            billing_period__lte=periods.month_start(today),
            component_type__in={p.component_type for p in policies},
        )
        .order_by()
        .values(
            "resource__project_id",
            "resource__project__customer_id",
            "resource__offering_id",
            "component_type",
            "billing_period",
        )
        .annotate(total=Sum("usage"))
        .values_list(
            "resource__project_id",
            "resource__project__customer_id",
            "resource__offering_id",
            "component_type",
            "billing_period",
            "total",
        )
    )
    for project_id, customer_id, offering_id, component_type, month, total in rows:
        for policy in policies:
            if (
                policy.component_type == component_type
                and current_period(policy, today).holds_month(month)
                and _covers(policy, project_id, customer_id, offering_id)
            ):
                measures[policy.id] += total


def _measure_cost(policies: list[Policy], today: date, measures: dict[int, Decimal]) -> None:
    """The estimated cost of each policy's period so far: its months up to this one, this one priced whole."""
    first = min(current_period(p, today).first_month for p in policies)
    this_month = periods.month_start(today)
    resources = list(Resource.objects.filter(_resources_of(policies)).select_related("project").order_by("id"))
    if not resources:
        return
    lifetimes, terms = priced_lifetimes(resources)
    usage: dict[tuple[int, date], dict[str, Decimal]] = defaultdict(dict)
    rows = ComponentUsage.objects.filter(
        resource_id__in=list(lifetimes), username="", billing_period__gte=first, billing_period__lte=this_month
    ).values_list("resource_id", "billing_period", "component_type", "usage")
    for resource_id, month, component_type, amount in rows:
        usage[(resource_id, month)][component_type] = amount
    months = periods.months_between(first, this_month)
    for resource in resources:
        lifetime = lifetimes.get(resource.id)
        if lifetime is None:
            continue
        covering = [
            p for p in policies if _covers(p, resource.project_id, resource.project.customer_id, resource.offering_id)
        ]
        for month in months:
            holders = [p for p in covering if current_period(p, today).holds_month(month)]
            if not holders:
                continue
            lines = lines_for_month(lifetime, terms, usage.get((resource.id, month), {}), month.year, month.month)
            cost = sum((line.price for line in lines), Decimal(0))
            for policy in holders:
                measures[policy.id] += cost


def percent_of(value: Decimal, limit: Decimal | None) -> Decimal:
    if not limit:
        return Decimal(0)
    return (value * 100 / limit).quantize(Decimal("0.01"))


def firings_of_current_periods(policies: list[Policy], today: date) -> dict[tuple[int, Decimal], PolicyFiring]:
    """{(policy id, threshold): firing} of each policy's current period, in one query."""
    if not policies:
        return {}
    starts = Q(pk__in=[])
    for policy in policies:
        starts |= Q(policy_id=policy.id, period_start=current_period(policy, today).start)
    return {(f.policy_id, f.threshold): f for f in PolicyFiring.objects.filter(starts)}


def active_firings_blocking(*, field: str, project, offering, today: date) -> QuerySet[PolicyFiring]:
    """Active firings of the current period that block `field` ("blocks_creation"/"blocks_modification") in
    the project and offering: a cost policy of the project, its customer or the offering; a usage policy of
    the offering, or of the project or customer when the offering has the policy's component."""
    from marketplace.models import OfferingComponent

    component_types = OfferingComponent.objects.filter(offering=offering).values("type")
    return (
        PolicyFiring.objects.filter(active=True, period_end__gt=today, **{field: True})
        .filter(
            Q(policy__project_id=project.id) | Q(policy__customer_id=project.customer_id) | Q(policy__offering=offering)
        )
        .filter(
            Q(policy__kind=PolicyKind.COST)
            | Q(policy__scope_type=PolicyScope.OFFERING)
            | Q(policy__component_type__in=component_types)
        )
        .select_related("policy__project", "policy__customer", "policy__offering")
        .order_by("id")
    )


def policy_list(*, user) -> QuerySet[Policy]:
    """The policies `user` may see, with their scope's uuid and whether (and when) they fired."""
    today = timezone.localdate()
    firings = PolicyFiring.objects.filter(policy=OuterRef("pk"))
    return (
        Policy.objects.visible_to(user)
        .select_related("project", "customer", "offering", "created_by")
        .annotate(
            scope_uuid=Coalesce("project__uuid", "customer__uuid", "offering__uuid"),
            has_fired=Exists(firings.filter(active=True, period_end__gt=today)),
            fired_datetime=Subquery(firings.order_by("-fired_at").values("fired_at")[:1]),
        )
    )


def policy_firing_list(*, policy: Policy) -> QuerySet[PolicyFiring]:
    return policy.firings.order_by("-fired_at", "id")
