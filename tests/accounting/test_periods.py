"""Periods a limit covers: calendar months, quarters and years across year ends and leap days; `total`
from the resource's start with no end."""

from datetime import date

import pytest

from accounting import periods
from accounting.periods import Period, add_months, period_containing, period_kind

# (kind, day, start, end, days)
CALENDAR = [
    ("month", date(2024, 2, 29), date(2024, 2, 1), date(2024, 3, 1), 29),
    ("month", date(2023, 2, 28), date(2023, 2, 1), date(2023, 3, 1), 28),
    ("month", date(2025, 12, 31), date(2025, 12, 1), date(2026, 1, 1), 31),
    ("month", date(2026, 1, 1), date(2026, 1, 1), date(2026, 2, 1), 31),
    ("quarter", date(2024, 2, 29), date(2024, 1, 1), date(2024, 4, 1), 91),
    ("quarter", date(2023, 3, 31), date(2023, 1, 1), date(2023, 4, 1), 90),
    ("quarter", date(2024, 4, 1), date(2024, 4, 1), date(2024, 7, 1), 91),
    ("quarter", date(2026, 9, 30), date(2026, 7, 1), date(2026, 10, 1), 92),
    ("quarter", date(2025, 12, 31), date(2025, 10, 1), date(2026, 1, 1), 92),
    ("quarter", date(2026, 1, 1), date(2026, 1, 1), date(2026, 4, 1), 90),
    ("quarterly", date(2026, 5, 5), date(2026, 4, 1), date(2026, 7, 1), 91),
    ("annual", date(2024, 2, 29), date(2024, 1, 1), date(2025, 1, 1), 366),
    ("annual", date(2025, 12, 31), date(2025, 1, 1), date(2026, 1, 1), 365),
    ("annual", date(2026, 1, 1), date(2026, 1, 1), date(2027, 1, 1), 365),
    ("annual", date(2100, 6, 1), date(2100, 1, 1), date(2101, 1, 1), 365),  # not a leap year
    ("annual", date(2000, 6, 1), date(2000, 1, 1), date(2001, 1, 1), 366),  # a leap year
]


@pytest.mark.parametrize(("kind", "day", "start", "end", "days"), CALENDAR)
def test_calendar_periods(kind, day, start, end, days):
    period = period_containing(kind, day, resource_start=date(1999, 1, 1))
    assert (period.start, period.end, period.days) == (start, end, days)
    assert day in period and start in period and end not in period
    assert period.holds_month(start) and not period.holds_month(end)
    assert not period.holds_month(add_months(start, -1))


# (resource start, day, start, first month counted)
TOTAL = [
    (date(2024, 2, 29), date(2025, 3, 1), date(2024, 2, 29), date(2024, 2, 1)),
    (date(2025, 12, 31), date(2026, 1, 1), date(2025, 12, 31), date(2025, 12, 1)),
    (date(2026, 1, 1), date(2026, 1, 1), date(2026, 1, 1), date(2026, 1, 1)),
    (date(2026, 3, 1), date(2026, 2, 1), date(2026, 2, 1), date(2026, 2, 1)),  # usage before the recorded start
]


@pytest.mark.parametrize(("resource_start", "day", "start", "first_month"), TOTAL)
def test_total_runs_from_the_resource_start_without_end(resource_start, day, start, first_month):
    period = period_containing("total", day, resource_start=resource_start)
    assert (period.start, period.end, period.days, period.first_month) == (start, None, None, first_month)
    assert period.holds_month(first_month) and period.holds_month(date(2999, 12, 1))
    assert not period.holds_month(add_months(first_month, -1))
    assert period.label == "since start"


def test_total_needs_the_start_and_unknown_kinds_are_refused():
    with pytest.raises(ValueError, match="resource's start"):
        period_containing("total", date(2026, 1, 1))
    with pytest.raises(ValueError, match="Unknown period kind"):
        period_containing("fortnight", date(2026, 1, 1))


@pytest.mark.parametrize(
    ("month", "count", "expected"),
    [
        (date(2025, 12, 1), 1, date(2026, 1, 1)),
        (date(2026, 1, 31), -1, date(2025, 12, 1)),
        (date(2024, 2, 29), 12, date(2025, 2, 1)),
        (date(2026, 11, 1), -23, date(2024, 12, 1)),
        (date(2026, 5, 1), 0, date(2026, 5, 1)),
    ],
)
def test_add_months(month, count, expected):
    assert add_months(month, count) == expected


@pytest.mark.parametrize(
    ("limit_period", "billing_type", "kind"),
    [
        ("month", "limit", "month"),
        ("quarter", "limit", "quarter"),
        ("quarterly", "limit", "quarter"),
        ("annual", "limit", "annual"),
        ("total", "limit", "total"),
        ("", "limit", "total"),  # a limit with no period is a lifetime allocation
        ("", "usage", "month"),
        ("", "fixed", "month"),
        ("", None, "month"),  # usage of a component the offering does not list
    ],
)
def test_period_kind(limit_period, billing_type, kind):
    assert period_kind(limit_period=limit_period, billing_type=billing_type) == kind


def test_labels_name_the_period():
    labels = {
        kind: period_containing(kind, date(2026, 5, 5), resource_start=date(2026, 1, 1)).label for kind in periods.KINDS
    }
    assert labels == {"month": "this month", "quarter": "this quarter", "annual": "this year", "total": "since start"}
    assert Period("month", date(2026, 5, 1), date(2026, 6, 1)).first_month == date(2026, 5, 1)


def test_months_between_crosses_year_ends():
    assert periods.months_between(date(2025, 11, 30), date(2026, 2, 1)) == [
        date(2025, 11, 1), date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1),
    ]  # fmt: skip
