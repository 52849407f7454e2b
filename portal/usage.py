"""A resource's usage as the resource page shows it: per component, the period's summary (from
`accounting.summaries`), the chart and table of its months (from `accounting.selectors.monthly_usage`),
how close it is to its limit, and this month's users. Three queries whatever the resource's history:
components are passed in, then the summaries' usage and the monthly series."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

from django.utils import timezone

from accounting import forecasts
from accounting.selectors import monthly_usage
from accounting.summaries import ComponentSummary, usage_summaries

from .charts import Chart, level, usage_chart


@dataclasses.dataclass(frozen=True)
class ComponentUsageView:
    summary: ComponentSummary
    unit: str
    level: str
    chart: Chart
    forecast: str

    @property
    def level_text(self) -> str:
        return {"ok": "", "warn": "near the limit", "over": "over the limit"}[self.level]


def resource_usage(resource, components) -> list[ComponentUsageView]:
    today = timezone.localdate()
    summaries = usage_summaries([resource], components={resource.offering_id: components}, with_users=True)
    series = monthly_usage(resource_ids=[resource.id])
    started = timezone.localtime(resource.created).date() if resource.created else today
    views = []
    for summary in summaries[resource.id]:
        unit = summary.measured_unit
        chart = usage_chart(
            summary, series.get((resource.id, summary.type), []), started=started, today=today, unit=unit
        )
        views.append(
            ComponentUsageView(
                summary=summary, unit=unit, level=level(summary.percent), chart=chart, forecast=forecast_text(summary)
            )
        )
    return views


def forecast_text(summary: ComponentSummary) -> str:
    """The forecast as a sentence: when the limit is reached at the recent rate, or that it is not."""
    forecast = summary.forecast
    if forecast.state == forecasts.REACHED:
        return "The limit is reached."
    if forecast.state == forecasts.EXPECTED and isinstance(forecast.day, date):
        return f"At this rate the limit is reached on {forecast.day.day} {forecast.day:%B %Y}."
    if forecast.state == forecasts.NOT_AT_THIS_RATE:
        end = summary.period.end and summary.period.end - timedelta(days=1)
        within = f" by {end.day} {end:%B %Y}, the period's last day" if end else ""
        return f"Not at this rate: the limit is not reached{within}."
    return "No limit is set." if summary.limit is None else "Not enough usage yet to forecast."
