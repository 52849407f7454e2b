"""The recent burn rate of a component and the day its limit is reached at that rate.

What the data allows: usage is stored as one cumulative total per billing month, replaced by each
report, with the time of the last report (`reported_at`). So each month is one observation: an
amount used over a known window, from the month's start (or the resource's creation, if later) to
the month's end or its last report, whichever came first. The current month is a partial window
ending at its last report.

The rate is an exponentially weighted daily rate over those windows: each window's usage and
length are weighted by 0.5 ** (age / half-life), age being the days from the window's middle to
the latest report, and the rate is the weighted usage over the weighted days. Long windows count
more than short ones (a report two hours into a month does not swing the rate), recent months
more than old ones (an accelerating resource is seen accelerating within a half-life), and idle
months pull the rate to zero. A least-squares line would need several points per period; monthly
totals give one point a month, too few for a stable slope, and the ratio of weighted sums has no
such problem.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from decimal import Decimal

HALF_LIFE_DAYS = 30.0
MIN_WINDOW_DAYS = 1.0
# Beyond this many days a forecast says "not at this rate" instead of naming a far-off day.
HORIZON_DAYS = 3650

REACHED = "reached"
EXPECTED = "expected"
NOT_AT_THIS_RATE = "not_at_this_rate"
NO_LIMIT = "no_limit"


@dataclasses.dataclass(frozen=True)
class Window:
    """`usage` used between `start` and `end`."""

    start: datetime
    end: datetime
    usage: Decimal


@dataclasses.dataclass(frozen=True)
class Forecast:
    state: str
    day: date | None = None


def daily_rate(windows: list[Window], *, as_of: datetime, half_life_days: float = HALF_LIFE_DAYS) -> float | None:
    """Usage per day, weighted toward recent windows; None when there is nothing to go on."""
    weighted_usage = weighted_days = 0.0
    for window in windows:
        days = max((window.end - window.start).total_seconds() / 86400, MIN_WINDOW_DAYS)
        middle = window.start + (window.end - window.start) / 2
        age = max((as_of - middle).total_seconds() / 86400, 0.0)
        weight = 0.5 ** (age / half_life_days)
        weighted_usage += weight * float(window.usage)
        weighted_days += weight * days
    if weighted_days == 0:
        return None
    return max(weighted_usage / weighted_days, 0.0)


def forecast(
    *, limit: Decimal | None, used: Decimal, rate: float | None, as_of: datetime, until: date | None, today: date
) -> Forecast:
    """When `used` reaches `limit` at `rate` per day from `as_of` (an aware time in the local zone).

    Not at this rate when the rate is zero or unknown, or the day falls on or after `until` (the
    period's end, when the limit starts afresh, or the resource's end) or past the horizon. A day
    before `today` (the rate says the limit should already be reached, but no report says so yet)
    is given as `today`.
    """
    if limit is None:
        return Forecast(NO_LIMIT)
    if used >= limit:
        return Forecast(REACHED)
    if not rate:
        return Forecast(NOT_AT_THIS_RATE)
    days = float(limit - used) / rate
    if days > HORIZON_DAYS:
        return Forecast(NOT_AT_THIS_RATE)
    day = max((as_of + timedelta(days=days)).date(), today)
    if until is not None and day >= until:
        return Forecast(NOT_AT_THIS_RATE)
    return Forecast(EXPECTED, day)
