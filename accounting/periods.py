"""The period a limit covers: a calendar month, quarter or year, or the resource's whole life.

A limit-billed component's `limit_period` names the kind. Calendar periods are aligned to the
calendar (a quarter starts on 1 January, 1 April, 1 July or 1 October), whatever the resource's
start; `total` runs from the day the resource was created and has no end. A limit-billed component
with no `limit_period` is a lifetime allocation (`total`); any other component is counted by month.

Periods are half-open: `start` is the first day in the period, `end` the first day after it (None
for `total`). Usage is stored per billing month, so a period's usage is the sum of the monthly rows
whose month falls in it; `first_month` is the first such month.
"""

from __future__ import annotations

import dataclasses
from datetime import date

MONTH = "month"
QUARTER = "quarter"
ANNUAL = "annual"
TOTAL = "total"
KINDS = (MONTH, QUARTER, ANNUAL, TOTAL)
# Waldur spells the quarter `quarterly`; both mean the same calendar quarter.
_ALIASES = {"quarterly": QUARTER}

LABELS = {MONTH: "this month", QUARTER: "this quarter", ANNUAL: "this year", TOTAL: "since start"}


@dataclasses.dataclass(frozen=True)
class Period:
    kind: str
    start: date
    end: date | None

    @property
    def label(self) -> str:
        return LABELS[self.kind]

    @property
    def first_month(self) -> date:
        return month_start(self.start)

    @property
    def days(self) -> int | None:
        """Days in the period; None for an open one."""
        return None if self.end is None else (self.end - self.start).days

    def __contains__(self, day: date) -> bool:
        return day >= self.start and (self.end is None or day < self.end)

    def holds_month(self, month: date) -> bool:
        """Whether the billing month starting on `month` counts toward this period."""
        return month >= self.first_month and (self.end is None or month < self.end)


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, count: int) -> date:
    """The first day of the month `count` months after the month of `month` (negative goes back)."""
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def period_kind(*, limit_period: str, billing_type: str | None) -> str:
    """The kind of period a component's limit and usage are counted in."""
    kind = _ALIASES.get(limit_period, limit_period)
    if kind in KINDS:
        return kind
    return TOTAL if billing_type == "limit" else MONTH


def period_containing(kind: str, day: date, *, resource_start: date | None = None) -> Period:
    """The period of `kind` that contains `day`; `total` needs the resource's start (its created date)."""
    kind = _ALIASES.get(kind, kind)
    if kind == MONTH:
        start = month_start(day)
        return Period(kind, start, add_months(start, 1))
    if kind == QUARTER:
        start = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
        return Period(kind, start, add_months(start, 3))
    if kind == ANNUAL:
        return Period(kind, date(day.year, 1, 1), date(day.year + 1, 1, 1))
    if kind == TOTAL:
        if resource_start is None:
            raise ValueError("A total period starts at the resource's start, which was not given.")
        return Period(kind, min(resource_start, day), None)
    raise ValueError(f"Unknown period kind {kind!r}; expected one of {', '.join(KINDS)}.")


def months_between(first: date, last: date) -> list[date]:
    """The first days of the months from `first`'s month to `last`'s month, both included."""
    months, month = [], month_start(first)
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    return months
