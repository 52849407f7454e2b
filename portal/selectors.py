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
from django.db.models import BooleanField, Count, F, Func, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django_filters import MultipleChoiceFilter

from accounting.models import ComponentUsage
from accounting.summaries import usage_summaries
from common.sql import AmongIds
from federation.models import Project, RoleGrant, RoleName
from federation.permissions import is_operator, may_write
from marketplace import selectors
from marketplace.models import PENDING_ORDER_STATES, Order, OrderState, ResourceState
from marketplace.permissions import ORDERING_ROLES

from .charts import WARN_PERCENT

LIST_SIZE = 20
NEAR_LIMIT_SCAN = 200
PROJECT_CHOICES = 200


def rows_by_ids_first(rows, chosen):
    """The rows of `rows` (a queryset with its joins) whose ids `chosen` (a sliced, sorted queryset of the
    same model, without joins, drawn from `rows`) picks, in `rows`' order; one query. Sorting and slicing
    the ids alone lets PostgreSQL read them from an index on the sort keys instead of sorting every joined
    row.

    The ids being some of `rows`', the rows are read by id alone, with `rows`' joins, ordering and
    prefetches but not its filters again: a visibility rule and a list's filters written twice in one
    query cost PostgreSQL 10-30 ms of planning, and Django as much to build. A queryset with more than
    filters (annotations, DISTINCT, deferred fields, a UNION) keeps its own, filters and all."""
    ids = AmongIds(chosen.values("id"))
    query = rows.query
    if (
        query.annotations
        or query.distinct
        or query.combinator
        or query.extra
        or query.deferred_loading != (frozenset(), True)
        or query.is_sliced
        or query.is_empty()
    ):
        return rows.filter(ids)
    fresh = rows.model._default_manager.filter(ids)
    fresh.query.select_related = query.select_related
    fresh.query.order_by = query.order_by
    fresh.query.default_ordering = query.default_ordering
    fresh.query.standard_ordering = query.standard_ordering
    return fresh.prefetch_related(*rows._prefetch_related_lookups)


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


def queue_orders(user):
    """The orders `user` sees, with what a queue's row shows (the resource, project, provider and creator).

    Fewer joins than the orders list's selector: past eight joined tables PostgreSQL's planning alone took
    10-20 ms a query on the dashboard and the queues."""
    return Order.objects.listed_to(user).select_related(
        "offering__customer", "project__customer", "resource", "created_by"
    )


class _MayReachWarning(Func):
    """Whether any limit of the resource may be used to WARN_PERCENT or more in its period, as a bound
    PostgreSQL checks from the usage rows, so that only those resources are summarised in Python.

    A period's usage is the sum of some of the resource's monthly rows; the sum of the positive parts of
    all of them is never less, so a limit whose lifetime positive usage stays below the threshold cannot
    reach it (one point of margin for the percentage's rounding), nor can a zero limit (no percentage).
    Limits that are not plain numbers (a string `_limit` may still read as one) or negative are left to
    the summary. Elsewhere than on
    PostgreSQL every resource is summarised, as before."""

    output_field = BooleanField()

    def __init__(self):
        super().__init__(F("id"), F("limits"))

    def as_sql(self, compiler, connection, **extra_context):
        if connection.vendor != "postgresql":
            return "1 = 1", ()
        (resource, resource_params), (limits, limits_params) = (
            compiler.compile(e) for e in self.get_source_expressions()
        )
        usage = connection.ops.quote_name(ComponentUsage._meta.db_table)
        sql = f"""CASE WHEN jsonb_typeof({limits}) = 'object' THEN EXISTS (
            SELECT 1 FROM jsonb_each({limits}) AS l(key, value)
            WHERE CASE jsonb_typeof(l.value)
                WHEN 'number' THEN (l.value::text)::numeric < 0 OR (l.value::text)::numeric > 0 AND 100 * COALESCE((
                    SELECT SUM(GREATEST(u.usage, 0)) FROM {usage} u
                    WHERE u.resource_id = {resource} AND u.component_type = l.key AND u.username = ''
                ), 0) >= %s * (l.value::text)::numeric
                WHEN 'string' THEN TRUE
                ELSE FALSE END
        ) ELSE TRUE END"""  # noqa: S608  (a quoted table name and compiled columns; the one value is a parameter)
        return sql, (*limits_params, *limits_params, *resource_params, WARN_PERCENT - 1)


def near_limit(resources, *, scan: int = NEAR_LIMIT_SCAN) -> tuple[list[NearLimit], int]:
    """Resources at or above WARN_PERCENT of a limit in its period, fullest first, among the `scan` most
    recently changed active resources with limits of `resources`; and how many were scanned. Two
    queries for the usage whatever the rows (the first candidate is always summarised, so none are
    skipped when nothing is near)."""
    latest = (
        resources.filter(state__in=[ResourceState.OK, ResourceState.UPDATING])
        .exclude(limits={})
        .order_by("-modified", "-id")[:scan]
    )
    # The latest ids are sorted alone, then the rows to summarise read with their joins, in one query:
    # sorting the joined rows made PostgreSQL sort every wide row (100,000 resources: 230 ms against 60).
    # Only the newest and those the bound lets through come back, with the number scanned beside them:
    # building a model instance with its joins for every scanned row, to drop most of them, cost 30-40 ms
    # a page in Python alone.
    newest_first = [F("modified").desc(), F("id").desc()]
    summarised = list(
        rows_by_ids_first(resources, latest)
        .annotate(
            may_warn=_MayReachWarning(),
            position=Window(RowNumber(), order_by=newest_first),
            scanned=Window(Count("*")),
        )
        .filter(Q(may_warn=True) | Q(position=1))
        .order_by(*newest_first)
    )
    summaries = usage_summaries(summarised)
    near = [
        NearLimit(resource, summary)
        for resource in summarised
        for summary in summaries[resource.id]
        if summary.percent is not None and summary.percent >= WARN_PERCENT
    ]
    near.sort(key=lambda item: -item.summary.percent)
    return near, summarised[0].scanned if summarised else 0


def orders_to_review(user):
    """Pending orders `user` may approve or reject now, oldest first."""
    pending = queue_orders(user).filter(state__in=PENDING_ORDER_STATES).order_by("created", "id")
    if not may_write(user):
        return pending.none()
    if is_operator(user):
        return pending
    grants = RoleGrant.objects.active().filter(user=user)
    owned = grants.filter(role__name=RoleName.CUSTOMER_OWNER).values("customer_id")
    managed = grants.filter(role__name=RoleName.PROJECT_MANAGER).values("project_id")
    # The projects of owned organisations as ids, not through a join: the join read the project of every
    # order waiting for a consumer (1,900 lookups, 8 ms) for a provider's owner who owns no project.
    owned_projects = Project.objects.filter(customer_id__in=owned).values("id")
    consumer = Q(state=OrderState.PENDING_CONSUMER) & (Q(project_id__in=owned_projects) | Q(project_id__in=managed))
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
    resources = selectors.resource_list(user=user, listing=True)
    near, _ = near_limit(resources)
    ending = (
        Project.objects.visible_to(user)
        .filter(is_active=True, end_date__gte=today, end_date__lte=today + timedelta(days=days))
        .select_related("customer")
        .order_by("end_date", "id")
    )
    # Each list's ids are picked alone, then its rows read by id with their joins (`rows_by_ids_first`).
    oldest, latest = ("created", "id"), ("-modified", "-id")
    orders = rows_by_ids_first(queue_orders(user), orders_to_review(user)[:LIST_SIZE]).order_by(*oldest)
    erred = resources.filter(state=ResourceState.ERRED).order_by(*latest)[:LIST_SIZE]
    return Attention(
        orders=list(orders),
        erred=list(rows_by_ids_first(resources, erred).order_by(*latest)),
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
    # COUNT(*) rather than of the key: the rows are the same, and an index without the key then serves it.
    return dict(others.qs.order_by().values_list(field).annotate(rows=Count("*")))


def rows_from_counts(filterset, field: str, counts: dict) -> int | None:
    """The number of rows of the filter set's list, from `count_by(filterset, field)`'s `counts` when they
    were taken over the same rows (no second scan of them); None when it cannot be told from them (an
    invalid filter, or a filter on `field` that is not a plain choice among its values)."""
    choice = filterset.filters.get(field)
    if (
        not filterset.is_valid()
        or not isinstance(choice, MultipleChoiceFilter)
        or choice.method is not None
        or choice.exclude
        or choice.conjoined
        or choice.lookup_expr != "exact"
        or choice.field_name != field
        or not choice.always_filter
    ):
        return None
    chosen = filterset.form.cleaned_data.get(field)
    if not chosen:
        return sum(counts.values())
    # The filter's own rule (`MultipleChoiceFilter.filter`): rows with any of the chosen values.
    return sum(counts.get(value, 0) for value in set(chosen))


def project_choices(projects) -> list | None:
    """`projects` by name for a drop-down, or None when there are more than PROJECT_CHOICES (staff see every
    project): the page then asks for the project's UUID rather than listing thousands of options. One query,
    an index range scan stopping after PROJECT_CHOICES + 1 rows."""
    rows = list(projects.order_by("name", "id")[: PROJECT_CHOICES + 1])
    return rows if len(rows) <= PROJECT_CHOICES else None
