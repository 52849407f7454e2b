"""Usage reports: per group (customer, project, offering, provider, component or OECD field), month and
component type, the usage, the limit, the cost and the utilisation (usage / limit).

The database does the grouping and the rows are read through a server-side cursor in chunks
(`iterator(chunk_size=…)`), so a report over any range is written out as it is read, never held
whole. Only the costs are held, one entry per group, month and component (`report_costs`), which is
no more than the rows of the report itself and usually far fewer than the usage rows behind them.

- usage: the sum of the whole-resource monthly totals of the group's visible resources.
- limit: each resource's limit as it stands, as a monthly share of its period: the whole limit for
  `month`, a third for `quarter`, a twelfth for `annual`; a `total` limit spread evenly over the
  resource's months from its creation to its end date, and none when it has no end date. Counted for
  the months a resource has a usage row.
- cost: the sum of the invoice item prices of the group's resources for the month and component.
- utilisation: usage / limit, when there is a limit.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping
from datetime import date
from decimal import Decimal

from django.db.models import (
    Case,
    CharField,
    DecimalField,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    Max,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, ExtractMonth, ExtractYear, Greatest

from common.exceptions import ValidationFailed
from common.querysets import reads_everything
from federation.models import OECD_FOS_2007_CODES
from marketplace.models import OfferingComponent, Resource

from .models import ComponentUsage, InvoiceItem
from .periods import add_months

CHUNK_SIZE = 2000
MAX_MONTHS = 120
FORMATS = ("json", "csv")
COLUMNS = ("group", "group_name", "month", "component_type", "usage", "limit", "cost", "utilisation")
_AMOUNT = DecimalField(max_digits=38, decimal_places=10)
_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


@dataclasses.dataclass(frozen=True)
class Grouping:
    """Where the group's key and name come from, for a usage row and for an invoice item."""

    usage_key: str
    usage_name: str
    cost_key: str
    cost_name: str


GROUPINGS = {
    "customer": Grouping(
        "resource__project__customer__uuid",
        "resource__project__customer__name",
        "invoice__customer__uuid",
        "invoice__customer__name",
    ),
    "project": Grouping("resource__project__uuid", "resource__project__name", "project_uuid", "project_name"),
    "offering": Grouping(
        "resource__offering__uuid", "resource__offering__name", "resource__offering__uuid", "offering_name"
    ),
    "provider": Grouping(
        "resource__offering__customer__uuid",
        "resource__offering__customer__name",
        "resource__offering__customer__uuid",
        "resource__offering__customer__name",
    ),
    "component": Grouping("component_type", "component_type", "component_type", "component_type"),
    "oecd": Grouping(
        "resource__project__oecd_fos_2007_code",
        "resource__project__oecd_fos_2007_code",
        "resource__project__oecd_fos_2007_code",
        "resource__project__oecd_fos_2007_code",
    ),
}


@dataclasses.dataclass(frozen=True)
class ReportParams:
    group_by: str
    start: date
    end: date
    format: str = "json"

    @property
    def months(self) -> int:
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1


def report_params(query: Mapping[str, str], *, today: date) -> ReportParams:
    """The report's parameters from a query string; bad input is refused naming the field.

    `start` and `end` are months (YYYY-MM, both included), by default the last twelve months.
    """
    group_by = query.get("group_by") or "customer"
    if group_by not in GROUPINGS:
        raise ValidationFailed(f"Group by one of {', '.join(GROUPINGS)}.", field="group_by")
    fmt = query.get("format") or "json"
    if fmt not in FORMATS:
        raise ValidationFailed(f"Choose a format of {' or '.join(FORMATS)}.", field="format")
    end = _month(query, "end", today.replace(day=1))
    start = _month(query, "start", add_months(end, -11))
    params = ReportParams(group_by, start, end, fmt)
    if start > end:
        raise ValidationFailed("The start month must not be after the end month.", field="start")
    if params.months > MAX_MONTHS:
        raise ValidationFailed(f"A report covers at most {MAX_MONTHS} months.", field="end")
    return params


def _month(query, field, default: date) -> date:
    value = query.get(field)
    if not value:
        return default
    match = _MONTH_RE.match(value)
    if match is None or not 1 <= int(match[2]) <= 12 or not 1900 <= int(match[1]) <= 9998:
        raise ValidationFailed("Give a month as YYYY-MM, such as 2026-01 (years 1900 to 9998).", field=field)
    return date(int(match[1]), int(match[2]), 1)


def visible_resources(user):
    return Resource.objects.visible_to(user)


def report_rows(*, user, params: ReportParams) -> Iterator[dict]:
    """The report's rows, in order of group, month and component; cost-only rows (nothing used that
    month, a price all the same: fixed or one-off) come last, in the same order among themselves."""
    names = OECD_FOS_2007_CODES if params.group_by == "oecd" else {}
    costs = report_costs(user=user, params=params)
    for row in _usage_rows(user=user, params=params):
        key = (row["group"], row["month"], row["component_type"])
        row["cost"] = costs.pop(key, (None, None))[1]
        yield _finish(row, names)
    for (group, month, component_type), (name, cost) in sorted(costs.items(), key=lambda item: _sort_key(item[0])):
        row = {"group": group, "group_name": name, "month": month, "component_type": component_type}
        yield _finish({**row, "usage": None, "limit": None, "cost": cost}, names)


def _sort_key(key):
    return tuple("" if part is None else str(part) for part in key)


def _finish(row: dict, names: dict) -> dict:
    usage, limit = row["usage"], row["limit"]
    row["utilisation"] = (usage / limit) if usage is not None and limit else None
    row["group_name"] = names.get(row["group"], row["group_name"] or "")
    return {column: row[column] for column in COLUMNS}


def _usage_rows(*, user, params: ReportParams) -> Iterator[dict]:
    grouping = GROUPINGS[params.group_by]
    usage = ComponentUsage.objects.filter(
        username="",
        billing_period__gte=params.start,
        billing_period__lte=params.end,
        resource__in=visible_resources(user),
    )
    rows = (
        _with_monthly_limit_share(usage)
        .annotate(report_group=F(grouping.usage_key))
        .order_by()
        .values_list("report_group", "billing_period", "component_type")
        .annotate(used=Sum("usage"), limit_total=Sum("limit_share"), group_name=_name(grouping.usage_name))
        .order_by("report_group", "billing_period", "component_type")
    )
    for key, month, component_type, usage, limit, name in rows.iterator(chunk_size=CHUNK_SIZE):
        yield {
            "group": _key(key),
            "group_name": name,
            "month": f"{month:%Y-%m}",
            "component_type": component_type,
            "usage": usage,
            "limit": limit,
        }


def report_costs(*, user, params: ReportParams) -> dict[tuple, tuple[str, Decimal]]:
    """{(group, "YYYY-MM", component type): (group name, cost)}: invoice item prices added up in the database.

    An item whose resource is gone (deleted) is seen by staff and support only; anyone else sees the
    items of the resources they may see.
    """
    grouping = GROUPINGS[params.group_by]
    start, end = params.start, params.end
    items = InvoiceItem.objects.filter(
        Q(invoice__year__gt=start.year) | Q(invoice__year=start.year, invoice__month__gte=start.month),
        Q(invoice__year__lt=end.year) | Q(invoice__year=end.year, invoice__month__lte=end.month),
    )
    if not reads_everything(user):
        items = items.filter(resource__in=visible_resources(user))
    grouped = (
        items.annotate(report_group=F(grouping.cost_key))
        .order_by()
        .values_list("report_group", "invoice__year", "invoice__month", "component_type")
        .annotate(cost=Sum("price"), group_name=_name(grouping.cost_name))
    )
    return {
        (_key(key), f"{year:04d}-{month:02d}", component_type): (name, cost)
        for key, year, month, component_type, cost, name in grouped.iterator(chunk_size=CHUNK_SIZE)
    }


def _key(value) -> str:
    return "" if value is None else str(value)


def _name(path: str):
    """A group's name next to its key (any one; the key decides the group)."""
    return Max(Coalesce(F(path), Value("")), output_field=CharField())


class _LimitOf(Func):
    """The resource's limit for the row's component, as text: `limits ->> component_type`."""

    output_field = CharField()

    def as_sql(self, compiler, connection, **extra_context):
        (limits, limits_params), (key, key_params) = (compiler.compile(e) for e in self.get_source_expressions())
        return f"({limits} ->> {key})", [*limits_params, *key_params]

    def as_sqlite(self, compiler, connection, **extra_context):
        (limits, limits_params), (key, key_params) = (compiler.compile(e) for e in self.get_source_expressions())
        return f"json_extract({limits}, '$.\"' || {key} || '\"')", [*limits_params, *key_params]


def _share(expression):
    return ExpressionWrapper(expression, output_field=_AMOUNT)


def _with_monthly_limit_share(rows):
    """Each row's monthly share of its resource's limit for the component (see the module's docstring).

    One correlated subquery per row, on the offering's unique (offering, type) component, does the
    choosing; the resource's limit and its lifetime in months come from the row's own join.
    """
    rows = rows.annotate(
        limit_value=Cast(_LimitOf(F("resource__limits"), F("component_type")), _AMOUNT),
        lifetime_months=Case(
            When(resource__end_date__isnull=True, then=Value(None)),
            default=Greatest(
                ExtractYear("resource__end_date") * 12
                + ExtractMonth("resource__end_date")
                - ExtractYear("resource__created") * 12
                - ExtractMonth("resource__created")
                + 1,
                Value(1),
                output_field=IntegerField(),
            ),
            output_field=IntegerField(),
        ),
    )
    limit = OuterRef("limit_value")
    lifetime = Q(limit_period="total") | Q(limit_period="", billing_type="limit")
    share = Case(
        When(Q(limit_period="month") | Q(limit_period="") & ~Q(billing_type="limit"), then=limit),
        When(limit_period__in=["quarter", "quarterly"], then=_share(limit / Value(Decimal(3)))),
        When(limit_period="annual", then=_share(limit / Value(Decimal(12)))),
        When(lifetime, then=_share(limit / OuterRef("lifetime_months"))),
        default=Value(None),
        output_field=_AMOUNT,
    )
    component = OfferingComponent.objects.filter(
        offering_id=OuterRef("resource__offering_id"), type=OuterRef("component_type")
    )
    return rows.annotate(
        limit_share=Subquery(component.annotate(share=share).values("share")[:1], output_field=_AMOUNT)
    )
