"""What a resource costs in one month, from its plan's prices: pure functions, no queries.

A resource is billed from the day its create order was completed (the day the provider reported
it running; `created` for a resource that never had a create order) to the day its terminate order
was completed, both days included. Done update orders split that time into plan periods: from the
day an update was completed the resource runs on the order's plan and limits.

Per plan period and plan component, by the component's billing type:

| billing type | quantity | unit |
|---|---|---|
| `fixed` | amount × the plan units the period covers (a month unit: active days ÷ days of the month) | plan unit |
| `fixed`, plan unit `once` | as `one` | `once` |
| `usage` | the month's reported usage (resource total), priced in the month's last plan period | component unit |
| `limit` | limit × active days ÷ days of the month ÷ months in the limit period (1, 3, 12) | component unit |
| `limit`, period `total` | the whole limit when the resource starts, then each increase when made | component unit |
| `one` | the amount, once, when the resource starts on the plan (creation, or a switch to the plan) | `once` |

`price = quantity × unit_price`; the only rounding is of a fractional quantity, to ten places.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

QUANTITY_PLACES = Decimal("0.0000000001")
MONTHS_IN_PERIOD = {"": 1, "month": 1, "quarter": 3, "quarterly": 3, "annual": 12}
HOURS_IN_DAY = 24


@dataclass(frozen=True)
class Price:
    """One plan component: what the plan charges for one component."""

    component_type: str
    billing_type: str
    limit_period: str
    measured_unit: str
    price: Decimal
    amount: int


@dataclass(frozen=True)
class PlanTerms:
    plan_id: int | None
    plan_name: str
    plan_unit: str
    prices: tuple[Price, ...]


@dataclass(frozen=True)
class Change:
    """The resource moved to `plan_id` with `limits` on `day` (an update order completed that day)."""

    day: date
    plan_id: int | None
    limits: dict


@dataclass(frozen=True)
class Lifetime:
    start: date
    end: date | None  # last billed day, inclusive; None while the resource runs
    plan_id: int | None  # the plan and limits it started with
    limits: dict
    changes: tuple[Change, ...] = ()


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive
    plan_id: int | None
    limits: dict
    previous_limits: dict | None  # the limits before this period, when it starts with a change
    starts_plan: bool  # the resource started, or switched to, this plan on the period's first day


@dataclass(frozen=True)
class Line:
    """One invoice line: a component over a period, before names are attached."""

    component_type: str
    billing_type: str
    quantity: Decimal
    unit_price: Decimal
    unit: str
    start: date
    end: date
    plan_id: int | None
    price: Decimal = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "price", self.quantity * self.unit_price)


def month_bounds(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def periods_in_month(lifetime: Lifetime, year: int, month: int) -> list[Period]:
    """The plan periods of the resource that fall into the month, in order; empty when it was not active."""
    first, last = month_bounds(year, month)
    end = lifetime.end if lifetime.end is not None else last
    if lifetime.start > last or end < first or end < lifetime.start:
        return []
    boundaries = [(lifetime.start, lifetime.plan_id, lifetime.limits, None, True)]
    for change in sorted(lifetime.changes, key=lambda c: c.day):
        if change.day <= lifetime.start:
            boundaries[0] = (lifetime.start, change.plan_id, change.limits, None, True)
            continue
        _, plan_id, limits, _, _ = boundaries[-1]
        boundaries.append((change.day, change.plan_id, change.limits, limits, change.plan_id != plan_id))
    periods = []
    for index, (start, plan_id, limits, previous, starts_plan) in enumerate(boundaries):
        stop = boundaries[index + 1][0] - timedelta(days=1) if index + 1 < len(boundaries) else end
        stop = min(stop, end)
        if stop < start or stop < first or start > last:
            continue
        in_month_start = max(start, first)
        periods.append(
            Period(
                start=in_month_start,
                end=min(stop, last),
                plan_id=plan_id,
                limits=limits,
                previous_limits=previous if in_month_start == start else None,
                starts_plan=starts_plan and in_month_start == start,
            )
        )
    return periods


def _fraction(numerator, denominator) -> Decimal:
    return (Decimal(numerator) / Decimal(denominator)).quantize(QUANTITY_PLACES)


def _fixed_quantity(price: Price, plan_unit: str, days: int, days_in_month: int) -> Decimal:
    if plan_unit == "day":
        return Decimal(price.amount * days)
    if plan_unit == "hour":
        return Decimal(price.amount * days * HOURS_IN_DAY)
    return _fraction(price.amount * days, days_in_month)


def _limit_quantity(price: Price, period: Period, days: int, days_in_month: int) -> Decimal | None:
    limit = Decimal(str(period.limits.get(price.component_type, 0) or 0))
    if price.limit_period == "total":
        if period.previous_limits is None:
            return limit if period.starts_plan else None
        before = Decimal(str(period.previous_limits.get(price.component_type, 0) or 0))
        return limit - before if limit > before else None
    months = MONTHS_IN_PERIOD.get(price.limit_period, 1)
    return _fraction(limit * days, days_in_month * months)


def lines_for_month(
    lifetime: Lifetime, terms: dict[int | None, PlanTerms], usage: dict[str, Decimal], year: int, month: int
) -> list[Line]:
    """The invoice lines of one resource in one month; `usage` is the month's usage per component type."""
    periods = periods_in_month(lifetime, year, month)
    days_in_month = calendar.monthrange(year, month)[1]
    lines = []
    for index, period in enumerate(periods):
        plan = terms.get(period.plan_id)
        if plan is None:
            continue
        days = (period.end - period.start).days + 1
        for price in plan.prices:
            quantity, unit = None, price.measured_unit
            if price.billing_type == "one" or (price.billing_type == "fixed" and plan.plan_unit == "once"):
                quantity, unit = (Decimal(price.amount) if period.starts_plan else None), "once"
            elif price.billing_type == "fixed":
                quantity, unit = _fixed_quantity(price, plan.plan_unit, days, days_in_month), plan.plan_unit
            elif price.billing_type == "limit":
                quantity = _limit_quantity(price, period, days, days_in_month)
            elif price.billing_type == "usage" and index == len(periods) - 1:
                quantity = usage.get(price.component_type)
            if quantity is None:
                continue
            lines.append(
                Line(
                    component_type=price.component_type,
                    billing_type=price.billing_type,
                    quantity=quantity,
                    unit_price=price.price,
                    unit=unit,
                    start=period.start,
                    end=period.end,
                    plan_id=period.plan_id,
                )
            )
    return lines
