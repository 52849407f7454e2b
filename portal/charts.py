"""Usage charts drawn on the server: a component's monthly usage over the resource's life against
its period's limit, as the geometry an inline SVG needs and the rows of the table that carries the
same data for screen readers, print and anyone who prefers numbers.

Bars are the months' usage; for periods longer than a month (quarter, year, the resource's life) a
line shows the running total within the period, which restarts where a period starts, because that
total, not one month's usage, is what the limit caps. The limit is a dashed horizontal line. No
JavaScript: the page works the same with scripts off and prints as shown.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

from accounting import periods
from accounting.summaries import ComponentSummary

# The chart's drawing box, in SVG user units; CSS scales it to the page's width.
WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 28
# A chart shows at most this many months, the latest ones; the table below it has them all.
MAX_MONTHS = 36

WARN_PERCENT = Decimal(80)
OVER_PERCENT = Decimal(100)


@dataclasses.dataclass(frozen=True)
class Month:
    month: date
    usage: Decimal
    running: Decimal | None  # the period's total up to and including this month, when it is in a period
    # geometry
    x: float = 0
    width: float = 0
    y: float = 0
    height: float = 0
    label: str = ""


@dataclasses.dataclass(frozen=True)
class Chart:
    title: str
    description: str
    months: list[Month]  # the months drawn, with their geometry
    rows: list[Month]  # every month of the resource's life, for the table
    limit_y: float | None
    running_points: str  # an SVG polyline's points, empty when the period is a month
    ticks: list[tuple[float, str]]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right_edge: int = WIDTH - RIGHT
    baseline: int = HEIGHT - BOTTOM

    @property
    def has_usage(self) -> bool:
        return any(month.usage for month in self.rows)


def level(percent: Decimal | None) -> str:
    """How close to the limit: `ok`, `warn` from 80 %, `over` from 100 % (a CSS class and a word)."""
    if percent is None or percent < WARN_PERCENT:
        return "ok"
    return "over" if percent >= OVER_PERCENT else "warn"


def usage_chart(
    summary: ComponentSummary, series: list[tuple[date, Decimal]], *, started: date, today: date, unit: str
) -> Chart:
    """The chart of one component: every month from the resource's first (its creation or first usage)
    to this one, months without usage at zero."""
    by_month = dict(series)
    first = min([periods.month_start(started), *by_month])
    months = periods.months_between(first, today)
    rows, running, period_start = [], Decimal(0), None
    for month in months:
        usage = by_month.get(month, Decimal(0))
        start = periods.period_containing(summary.period.kind, month, resource_start=first).first_month
        if start != period_start:
            running, period_start = Decimal(0), start
        running += usage
        rows.append(Month(month=month, usage=usage, running=running))
    return _draw(summary, rows, unit=unit)


def _draw(summary: ComponentSummary, rows: list[Month], *, unit: str) -> Chart:
    shown = rows[-MAX_MONTHS:]
    cumulative = summary.period.kind != periods.MONTH
    top = max([summary.limit or 0, *(r.usage for r in shown), *((r.running for r in shown) if cumulative else ())])
    step = _step(Decimal(top) * Decimal("1.05")) if top else Decimal("0.25")
    top = step * 4
    plot_height = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT - RIGHT) / max(len(shown), 1)

    def y(value: Decimal) -> float:
        return round(TOP + plot_height * (1 - float(value / top)), 1)

    drawn, points = [], []
    for index, row in enumerate(shown):
        x = LEFT + index * slot
        bar_top = y(row.usage)
        drawn.append(
            dataclasses.replace(
                row,
                x=round(x + slot * 0.15, 1),
                width=round(slot * 0.7, 1),
                y=bar_top,
                height=round(HEIGHT - BOTTOM - bar_top, 1),
                label=_month_label(row.month, index, len(shown)),
            )
        )
        points.append(f"{round(x + slot / 2, 1)},{y(row.running)}")
    name = f"{summary.name} ({unit})" if unit else summary.name
    limit = f"a limit of {_plain(summary.limit)} {summary.period.label}" if summary.limit is not None else "no limit"
    return Chart(
        title=f"{name}: usage per month",
        description=(
            f"Monthly usage of {summary.name} from {shown[0].month:%B %Y} to {shown[-1].month:%B %Y} against {limit}; "
            f"{_plain(summary.usage_period)} used {summary.period.label}. The table below has the figures."
            if shown
            else f"No usage of {summary.name} yet."
        ),
        months=drawn,
        rows=rows,
        limit_y=None if summary.limit is None else y(summary.limit),
        running_points=" ".join(points) if cumulative else "",
        ticks=[(y(step * index), _plain(step * index)) for index in range(5)],
    )


def _month_label(month: date, index: int, count: int) -> str:
    """Month names under the bars, thinned out so that they never overlap."""
    every = max(1, -(-count // 12))
    if (count - 1 - index) % every:
        return ""
    return f"{month:%b}" if month.month != 1 and count <= 12 else f"{month:%b %y}"


def _step(top: Decimal) -> Decimal:
    """The axis step: a round multiple of a power of ten, the smallest whose four steps reach `top`."""
    base = Decimal(1).scaleb((top / 4).adjusted())
    for multiple in ("1", "1.2", "1.5", "2", "2.5", "3", "4", "5", "6", "8", "10"):
        multiple = Decimal(multiple)
        if base * multiple * 4 >= top:
            return (base * multiple).normalize()
    return base * 10


def _plain(amount: Decimal) -> str:
    return f"{amount.quantize(Decimal('0.0001')):f}".rstrip("0").rstrip(".")
