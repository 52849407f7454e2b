"""Reads for the portal: the projects one may order for, and the dashboard's "needs attention", in a
fixed number of queries whatever the number of projects, orders or resources.

- orders waiting for a review the person may give: the rule of `marketplace.permissions`
  (`can_review_as_consumer`: the project's managers and its organisation's owners;
  `can_review_as_provider`: the provider organisation's owners; staff for both) written as one
  queryset; a test checks that the two agree order by order;
- erred resources;
- resources at or above 80 % of a limit in their period (`accounting.summaries`), among the latest
  `NEAR_LIMIT_SCAN` active resources with limits the person sees;
- projects ending within the longest of PROJECT_END_WARNING_DAYS.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from accounting.summaries import usage_summaries
from federation.models import Project, RoleGrant, RoleName
from federation.permissions import is_operator, may_write
from marketplace import selectors
from marketplace.models import PENDING_ORDER_STATES, OrderState, ResourceState
from marketplace.permissions import ORDERING_ROLES

from .charts import WARN_PERCENT

LIST_SIZE = 20
NEAR_LIMIT_SCAN = 200
PROJECT_CHOICES = 200


@dataclasses.dataclass(frozen=True)
class NearLimit:
    resource: object
    summary: object


@dataclasses.dataclass(frozen=True)
class Attention:
    orders: list
    erred: list
    near_limit: list[NearLimit]
    ending: list
    ending_days: int

    def __bool__(self) -> bool:
        return bool(self.orders or self.erred or self.near_limit or self.ending)


def orders_to_review(user):
    """Pending orders `user` may approve or reject now, oldest first."""
    pending = selectors.order_list(user=user).filter(state__in=PENDING_ORDER_STATES).order_by("created", "id")
    if not may_write(user):
        return pending.none()
    if is_operator(user):
        return pending
    grants = RoleGrant.objects.active().filter(user=user)
    owned = grants.filter(role__name=RoleName.CUSTOMER_OWNER).values("customer_id")
    managed = grants.filter(role__name=RoleName.PROJECT_MANAGER).values("project_id")
    consumer = Q(state=OrderState.PENDING_CONSUMER) & (Q(project__customer_id__in=owned) | Q(project_id__in=managed))
    provider = Q(state=OrderState.PENDING_PROVIDER, offering__customer_id__in=owned)
    return pending.filter(consumer | provider)


def projects_to_order_for(user, projects):
    """Those of `projects` `user` may order for: the rule of `marketplace.permissions.can_order` (a role of
    ORDERING_ROLES on the project or its organisation; staff everywhere) as one queryset filter."""
    if not may_write(user):
        return projects.none()
    if is_operator(user):
        return projects
    grants = RoleGrant.objects.active().filter(user=user, role__name__in=ORDERING_ROLES)
    return projects.filter(
        Q(customer_id__in=grants.filter(customer__isnull=False).values("customer_id"))
        | Q(id__in=grants.filter(project__isnull=False).values("project_id"))
    )


def needs_attention(user) -> Attention:
    today = timezone.localdate()
    days = max(settings.PROJECT_END_WARNING_DAYS, default=0)
    resources = selectors.resource_list(user=user)
    latest = (
        resources.filter(state__in=[ResourceState.OK, ResourceState.UPDATING])
        .exclude(limits={})
        .order_by("-modified", "-id")[:NEAR_LIMIT_SCAN]
    )
    # The latest ids are sorted alone, then their rows read with their joins, in one query: sorting the
    # joined rows made PostgreSQL sort every wide row (100,000 resources: 230 ms against 60).
    candidates = list(resources.filter(id__in=latest.values("id")).order_by("-modified", "-id"))
    summaries = usage_summaries(candidates)
    near = [
        NearLimit(resource, summary)
        for resource in candidates
        for summary in summaries[resource.id]
        if summary.percent is not None and summary.percent >= WARN_PERCENT
    ]
    near.sort(key=lambda item: -item.summary.percent)
    ending = (
        Project.objects.visible_to(user)
        .filter(is_active=True, end_date__gte=today, end_date__lte=today + timedelta(days=days))
        .select_related("customer")
        .order_by("end_date", "id")
    )
    return Attention(
        orders=list(orders_to_review(user)[:LIST_SIZE]),
        erred=list(resources.filter(state=ResourceState.ERRED).order_by("-modified", "-id")[:LIST_SIZE]),
        near_limit=near[:LIST_SIZE],
        ending=list(ending[:LIST_SIZE]) if days else [],
        ending_days=days,
    )


def count_by(filterset, field: str) -> dict:
    """How many rows of the filter set's list have each value of `field`, with the other filters applied
    but not the one on `field` (the numbers beside that filter's choices); one GROUP BY query."""
    params = filterset.data.copy()
    params.pop(field, None)
    others = type(filterset)(params, queryset=filterset.queryset, request=filterset.request)
    if not others.is_valid():
        return {}
    return dict(others.qs.order_by().values_list(field).annotate(rows=Count("pk")))


def project_choices(projects) -> list | None:
    """`projects` by name for a drop-down, or None when there are more than PROJECT_CHOICES (staff see every
    project): the page then asks for the project's UUID rather than listing thousands of options. One query,
    an index range scan stopping after PROJECT_CHOICES + 1 rows."""
    rows = list(projects.order_by("name", "id")[: PROJECT_CHOICES + 1])
    return rows if len(rows) <= PROJECT_CHOICES else None
