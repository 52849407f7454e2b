"""Each resource's usage against its limits: per component, the period's usage, this month's, what
remains, the percentage used and the day the limit is reached at the recent rate.

`usage_summaries` works on any number of resources in two queries, whatever their number or
history: one for the offerings' components (skipped when the caller has them) and one for the
usage. The usage query groups the whole-resource monthly rows by resource, component and month for
the months the periods and the rate need (since 1 January or the rate's first month, whichever is
earlier) and folds everything older into one sum per resource and component, which only `total`
periods need. A period's usage is the sum of its months (see `accounting.periods`), so a resource
that used 190 % of a lifetime allocation shows 190 %, not this month's share of it.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from decimal import Context, Decimal

from django.db.models import Case, DateField, F, Max, Min, Q, Sum, Value, When
from django.utils import timezone

from marketplace.models import OfferingComponent, Resource

from . import forecasts, periods
from .models import ComponentUsage

# The rate looks at the current month and the ones before it, back to this many in all.
RATE_MONTHS = 3
_PERCENT = Decimal("0.01")
_RATE = Decimal("1e-10")
_WIDE = Context(prec=80)  # quantizing a very large percentage or rate must not overflow the default 28 digits


@dataclasses.dataclass(frozen=True)
class ComponentSummary:
    type: str
    name: str
    measured_unit: str
    billing_type: str | None
    period: periods.Period
    limit: Decimal | None
    usage_period: Decimal
    usage_month: Decimal
    remaining: Decimal | None
    percent: Decimal | None
    daily_rate: Decimal | None
    forecast: forecasts.Forecast
    reported_at: datetime | None
    users: tuple[tuple[str, Decimal], ...] = ()


@dataclasses.dataclass
class _Usage:
    """What the usage query found for one resource and component."""

    months: dict[date, tuple[Decimal, datetime]] = dataclasses.field(default_factory=dict)
    older: Decimal = Decimal(0)
    first_month: date | None = None
    users: list[tuple[str, Decimal]] = dataclasses.field(default_factory=list)


def usage_summaries(
    resources: Iterable[Resource],
    *,
    now: datetime | None = None,
    components: dict[int, list[OfferingComponent]] | None = None,
    with_users: bool = False,
) -> dict[int, list[ComponentSummary]]:
    """{resource id: [summary per component]} for `resources` (already filtered by visibility).

    Components are the offering's, in its order, then any other type the resource has usage of.
    `components` ({offering id: [components]}) saves the query for them; `with_users` adds this
    month's per-user rows. `now` fixes the clock (tests, reports of a past day).
    """
    resources = list(resources)
    now = timezone.localtime(now or timezone.now())
    today = now.date()
    if components is None:
        components = _components({r.offering_id for r in resources})
    usage = _usage([r.id for r in resources], today=today, with_users=with_users)
    return {
        resource.id: [
            _summary(resource, component_type, component, usage.get((resource.id, component_type)), now)
            for component_type, component in _types(components.get(resource.offering_id, []), resource.id, usage)
        ]
        for resource in resources
    }


def _components(offering_ids: set[int]) -> dict[int, list[OfferingComponent]]:
    found = defaultdict(list)
    for component in OfferingComponent.objects.filter(offering_id__in=offering_ids).order_by("offering_id", "id"):
        found[component.offering_id].append(component)
    return found


def _types(components, resource_id, usage) -> list[tuple[str, OfferingComponent | None]]:
    known = [(c.type, c) for c in components]
    names = {c.type for c in components}
    extra = sorted({t for (rid, t) in usage if rid == resource_id and t not in names})
    return known + [(t, None) for t in extra]


def _usage(resource_ids: list[int], *, today: date, with_users: bool) -> dict[tuple[int, str], _Usage]:
    this_month = periods.month_start(today)
    cutoff = min(date(today.year, 1, 1), periods.add_months(this_month, 1 - RATE_MONTHS))
    rows = Q(username="") | Q(billing_period=this_month) if with_users else Q(username="")
    bucket = Case(
        When(billing_period__lt=cutoff, then=Value(None, output_field=DateField())),
        default=F("billing_period"),
        output_field=DateField(),
    )
    grouped = (
        ComponentUsage.objects.filter(rows, resource_id__in=resource_ids)
        .annotate(month=bucket)
        .order_by()
        .values("resource_id", "component_type", "month", "username")
        .annotate(total=Sum("usage"), last=Max("reported_at"), first=Min("billing_period"))
        .order_by("username")
    )
    found: dict[tuple[int, str], _Usage] = defaultdict(_Usage)
    for row in grouped:
        entry = found[(row["resource_id"], row["component_type"])]
        if row["username"]:
            entry.users.append((row["username"], row["total"]))
            continue
        if row["month"] is None:
            entry.older = row["total"]
        else:
            entry.months[row["month"]] = (row["total"], row["last"])
        entry.first_month = min(filter(None, (entry.first_month, row["first"])))
    return found


def _summary(resource, component_type, component, usage, now) -> ComponentSummary:
    usage = usage or _Usage()
    today = now.date()
    billing_type = component.billing_type if component else None
    kind = periods.period_kind(limit_period=component.limit_period if component else "", billing_type=billing_type)
    started = timezone.localtime(resource.created).date() if resource.created else today
    if usage.first_month is not None:
        started = min(started, usage.first_month)
    period = periods.period_containing(kind, today, resource_start=started)
    used = sum((amount for month, (amount, _) in usage.months.items() if period.holds_month(month)), Decimal(0))
    if kind == periods.TOTAL:
        used += usage.older
    limit = _limit(resource.limits.get(component_type))
    last = max((reported for _, reported in usage.months.values()), default=None)
    as_of = timezone.localtime(last) if last else now
    rate = forecasts.daily_rate(_windows(resource, usage, today), as_of=as_of)
    return ComponentSummary(
        type=component_type,
        name=component.name if component else component_type,
        measured_unit=component.measured_unit if component else "",
        billing_type=billing_type,
        period=period,
        limit=limit,
        usage_period=used,
        usage_month=usage.months.get(periods.month_start(today), (Decimal(0), None))[0],
        remaining=None if limit is None else max(limit - used, Decimal(0)),
        percent=_percent(used, limit),
        daily_rate=None if rate is None else Decimal(repr(rate)).quantize(_RATE, context=_WIDE),
        forecast=forecasts.forecast(
            limit=limit, used=used, rate=rate, as_of=as_of, until=_until(period, resource), today=today
        ),
        reported_at=last,
        users=tuple(usage.users),
    )


def _percent(used: Decimal, limit: Decimal | None) -> Decimal | None:
    return _WIDE.divide(used * 100, limit).quantize(_PERCENT, context=_WIDE) if limit else None


def _limit(value) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        limit = Decimal(str(value))
    except ArithmeticError:
        return None
    return limit if limit.is_finite() else None


def _until(period: periods.Period, resource) -> date | None:
    """The first day the limit no longer applies as it stands: the period's end or the day after the resource's."""
    ends = [day for day in (period.end, resource.end_date and resource.end_date + timedelta(days=1)) if day]
    return min(ends, default=None)


def _windows(resource, usage: _Usage, today: date) -> list[forecasts.Window]:
    """The recent months as observation windows: from the month's start (or the resource's creation, when
    later and within the month) to the month's end or its last report, whichever is first."""
    first = periods.add_months(periods.month_start(today), 1 - RATE_MONTHS)
    windows = []
    for month, (amount, reported) in usage.months.items():
        if month < first:
            continue
        start = _local(month)
        end = min(_local(periods.add_months(month, 1)), reported)
        if resource.created and start < resource.created < end:
            start = resource.created
        windows.append(forecasts.Window(start=start, end=max(end, start), usage=amount))
    return windows


def _local(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


@dataclasses.dataclass(frozen=True)
class ComponentTotal:
    """One offering component's summaries added up over a group's resources (a project, a customer)."""

    offering: object
    type: str
    name: str
    measured_unit: str
    period_kind: str
    resource_count: int
    limit: Decimal | None
    usage_period: Decimal
    usage_month: Decimal
    percent: Decimal | None
    reached_count: int


def usage_summary_totals(
    resources: Iterable[Resource], summaries: dict[int, list[ComponentSummary]], *, key
) -> dict[object, list[ComponentTotal]]:
    """{key(resource): [total per offering and component]}: usage and limits summed over the resources.

    Limits add up only across resources that have one; the percentage is of that sum. Each resource's
    `offering` must be loaded.
    """
    sums: dict[object, dict[tuple, list]] = defaultdict(dict)
    for resource in resources:
        for summary in summaries.get(resource.id, []):
            slot = sums[key(resource)].setdefault(
                (resource.offering_id, summary.type),
                [resource.offering, summary, 0, None, Decimal(0), Decimal(0), 0],
            )
            slot[2] += 1
            if summary.limit is not None:
                slot[3] = (slot[3] or Decimal(0)) + summary.limit
            slot[4] += summary.usage_period
            slot[5] += summary.usage_month
            slot[6] += summary.forecast.state == forecasts.REACHED
    return {group: [_total(*slot) for slot in by_component.values()] for group, by_component in sums.items()}


def _total(offering, summary, count, limit, used, month, reached) -> ComponentTotal:
    return ComponentTotal(
        offering=offering,
        type=summary.type,
        name=summary.name,
        measured_unit=summary.measured_unit,
        period_kind=summary.period.kind,
        resource_count=count,
        limit=limit,
        usage_period=used,
        usage_month=month,
        percent=_percent(used, limit),
        reached_count=reached,
    )
