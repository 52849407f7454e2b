"""The resource page's usage: per component a chart of the months over the resource's life against the
period's limit, the period's running total, percent used coloured and worded from 80 % and 100 %, the
forecast as a sentence, a table with the same figures, this month's users; and actions shown only to
those who may take them, asked of the same permission functions the services use."""

import html
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from accounting import forecasts, periods
from accounting.models import ComponentUsage
from accounting.selectors import monthly_usage
from accounting.summaries import ComponentSummary, usage_summaries
from marketplace.models import OrderState, Resource
from portal.charts import level, usage_chart
from portal.usage import forecast_text


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page_text(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def report(resource, month, usage, *, component="cpu_k_hours", username=""):
    ComponentUsage.objects.create(
        resource=resource,
        component_type=component,
        billing_period=month,
        username=username,
        usage=Decimal(usage),
        reported_at=timezone.now(),
    )


def months_back(count):
    return periods.add_months(timezone.localdate().replace(day=1), -count)


@pytest.fixture
def aged_resource(ok_resource):
    """The OK resource, created three months ago, with a lifetime limit of 100 k-hours."""
    Resource.objects.filter(pk=ok_resource.pk).update(created=timezone.now() - timedelta(days=95))
    ok_resource.refresh_from_db()
    return ok_resource


# --- the selector ------------------------------------------------------------------------------


def test_monthly_usage_is_one_query_for_any_number_of_resources(order_in, django_assert_num_queries):
    resources = [order_in(OrderState.DONE, attributes={"name": f"R{i}"}).resource for i in range(3)]
    for index, resource in enumerate(resources):
        for back in range(index + 2):
            report(resource, months_back(back), 10 + back)
        report(resource, months_back(0), 99, username="alice")  # per-user rows are left out
    with django_assert_num_queries(1):
        series = monthly_usage(resource_ids=[r.id for r in resources])
    assert series[(resources[2].id, "cpu_k_hours")] == [(months_back(b), Decimal(10 + b)) for b in (3, 2, 1, 0)]
    assert len(series[(resources[0].id, "cpu_k_hours")]) == 2


# --- levels and forecasts, table-driven ---------------------------------------------------------


@pytest.mark.parametrize(
    ("percent", "expected"),
    [(None, "ok"), ("0", "ok"), ("79.99", "ok"), ("80", "warn"), ("99.99", "warn"), ("100", "over"), ("190", "over")],
)
def test_level_turns_at_80_and_100_percent(percent, expected):
    assert level(None if percent is None else Decimal(percent)) == expected


def _summary_with(forecast, *, limit, end):
    period = periods.Period(periods.TOTAL if end is None else periods.MONTH, timezone.localdate().replace(day=1), end)
    return ComponentSummary(
        type="cpu",
        name="CPU",
        measured_unit="k-hours",
        billing_type="limit",
        period=period,
        limit=limit,
        usage_period=Decimal(1),
        usage_month=Decimal(1),
        remaining=None,
        percent=None,
        daily_rate=None,
        forecast=forecast,
        reported_at=None,
    )


@pytest.mark.parametrize(
    ("forecast", "limit", "end", "sentence"),
    [
        (forecasts.Forecast(forecasts.REACHED), Decimal(1), None, "The limit is reached."),
        (
            forecasts.Forecast(forecasts.EXPECTED, timezone.datetime(2027, 3, 14).date()),
            Decimal(100),
            None,
            "At this rate the limit is reached on 14 March 2027.",
        ),
        (
            forecasts.Forecast(forecasts.NOT_AT_THIS_RATE),
            Decimal(100),
            None,
            "Not at this rate: the limit is not reached.",
        ),
        (
            forecasts.Forecast(forecasts.NOT_AT_THIS_RATE),
            Decimal(100),
            timezone.datetime(2027, 1, 1).date(),
            "Not at this rate: the limit is not reached by 31 December 2026, the period's last day.",
        ),
        (forecasts.Forecast(forecasts.NO_LIMIT), None, None, "No limit is set."),
    ],
)
def test_forecast_sentence(forecast, limit, end, sentence):
    assert forecast_text(_summary_with(forecast, limit=limit, end=end)) == sentence


# --- the chart ---------------------------------------------------------------------------------


def test_chart_has_every_month_of_the_life_and_a_running_total_within_the_period(aged_resource):
    for back, amount in ((3, 40), (1, 50), (0, 95)):  # nothing two months ago
        report(aged_resource, months_back(back), amount)
    summary = next(s for s in usage_summaries([aged_resource])[aged_resource.id] if s.type == "cpu_k_hours")
    series = monthly_usage(resource_ids=[aged_resource.id])[(aged_resource.id, "cpu_k_hours")]
    chart = usage_chart(summary, series, started=months_back(3), today=timezone.localdate(), unit="k-hours")
    assert [(m.month, m.usage, m.running) for m in chart.months] == [
        (months_back(3), 40, 40),
        (months_back(2), 0, 40),
        (months_back(1), 50, 90),
        (months_back(0), 95, 185),
    ]
    # The limit line is below the highest point of the running total, which is over it; bars grow with usage.
    assert chart.limit_y is not None and chart.running_points
    tops = [float(p.split(",")[1]) for p in chart.running_points.split()]
    assert min(tops) < chart.limit_y < max(tops)
    heights = [m.height for m in chart.months]
    assert heights[1] == 0 and heights[0] < heights[2] < heights[3]


def test_a_monthly_limit_restarts_each_month_and_has_no_running_line(aged_resource):
    from marketplace.models import OfferingComponent

    OfferingComponent.objects.filter(offering=aged_resource.offering, type="cpu_k_hours").update(limit_period="month")
    for back, amount in ((1, 50), (0, 30)):
        report(aged_resource, months_back(back), amount)
    summary = next(s for s in usage_summaries([aged_resource])[aged_resource.id] if s.type == "cpu_k_hours")
    series = monthly_usage(resource_ids=[aged_resource.id])[(aged_resource.id, "cpu_k_hours")]
    chart = usage_chart(summary, series, started=months_back(3), today=timezone.localdate(), unit="k-hours")
    assert [m.running for m in chart.months] == [0, 0, 50, 30] and chart.running_points == ""
    assert summary.percent == Decimal(30)


# --- the page ----------------------------------------------------------------------------------


def test_resource_page_shows_the_period_against_the_limit_over_the_months(member, aged_resource):
    for back, amount in ((3, 40), (1, 50), (0, 95)):
        report(aged_resource, months_back(back), amount)
    report(aged_resource, months_back(0), "60.5", username="alice")
    report(aged_resource, months_back(0), "34.5", username="bob")
    text = page_text(browser(member), f"/resources/{aged_resource.uuid}/")
    # The period's total, not this month's, against the lifetime limit: 185 of 100.
    assert re.search(r'class="level level-over">\s*<strong>185 k-hours</strong> used since start', text)
    assert "<strong>185 %</strong> — over the limit" in text and "The limit is reached." in text
    # The chart: an image with a title and description, one bar per month, a limit line and a running line.
    svg = text[text.index("<svg") : text.index("</svg>")]
    assert 'role="img"' in svg and "<title id=" in svg and "<desc id=" in svg
    assert svg.count('class="bar"') == 4 and 'class="limit"' in svg and 'class="running"' in svg
    # The table carries the same figures, month by month, with the running total.
    month = months_back(1).strftime("%B %Y")
    assert re.search(rf"<th scope=\"row\">{month}</th><td>50 k-hours</td><td>90 k-hours</td>", text)
    # This month's users.
    assert "<td>alice</td><td>60.5 k-hours</td>" in text and "<td>bob</td><td>34.5 k-hours</td>" in text


@pytest.mark.parametrize(("used", "css", "words"), [("79", "level-ok", ""), ("85", "level-warn", "near the limit")])
def test_percent_is_coloured_and_worded_from_80(member, aged_resource, used, css, words):
    report(aged_resource, months_back(0), used)
    text = page_text(browser(member), f"/resources/{aged_resource.uuid}/")
    assert f'class="level {css}"' in text and f"<strong>{used} %</strong>" in text
    assert ("near the limit" in text) == bool(words)


# --- permissions drive the page ----------------------------------------------------------------

# who → (offered "change limits", offered "terminate")
RESOURCE_ACTIONS = {
    "manager": True,
    "project_admin": True,
    "owner": True,
    "staff": True,
    "member": False,
    "support": False,
}


@pytest.mark.parametrize(("who", "may"), list(RESOURCE_ACTIONS.items()))
def test_resource_actions_appear_only_for_those_who_may_order(request, ok_resource, who, may):
    text = page_text(browser(request.getfixturevalue(who)), f"/resources/{ok_resource.uuid}/")
    assert ("Order new limits" in text) is may
    assert ("Terminate this resource" in text) is may
    sentence = "Changes to this resource are ordered by the project's managers and admins or the owners of"
    assert (sentence in text) is not may


def test_order_page_offers_each_person_only_their_own_actions(order_in, manager, member, project_admin, provider_owner):
    waiting_consumer = order_in(OrderState.PENDING_CONSUMER)  # placed by the project admin
    waiting_provider = order_in(OrderState.PENDING_PROVIDER, attributes={"name": "Second"})
    url = f"/orders/{waiting_consumer.uuid}/"
    creator = page_text(browser(project_admin), url)
    assert "Cancel this order" in creator and ">Approve<" not in creator
    assert "Waiting for a manager of the project" in creator
    approver = page_text(browser(manager), url)
    assert ">Approve<" in approver and "Cancel this order" not in approver
    plain = page_text(browser(member), url)
    assert ">Approve<" not in plain and "Cancel this order" not in plain
    provider_page = page_text(browser(member), f"/orders/{waiting_provider.uuid}/")
    assert f"Waiting for the provider, {waiting_provider.offering.customer.name}, to approve." in provider_page
    assert ">Approve<" in page_text(browser(provider_owner), f"/orders/{waiting_provider.uuid}/")


def test_support_sees_no_action_anywhere(support, order_in):
    order = order_in(OrderState.PENDING_CONSUMER)
    text = page_text(browser(support), f"/orders/{order.uuid}/")
    assert ">Approve<" not in text and "Cancel this order" not in text


def test_a_long_life_draws_the_latest_months_and_tables_them_all(aged_resource):
    from portal.charts import MAX_MONTHS

    first = months_back(MAX_MONTHS + 5)
    report(aged_resource, first, 7)
    report(aged_resource, months_back(0), 3)
    summary = next(s for s in usage_summaries([aged_resource])[aged_resource.id] if s.type == "cpu_k_hours")
    series = monthly_usage(resource_ids=[aged_resource.id])[(aged_resource.id, "cpu_k_hours")]
    chart = usage_chart(summary, series, started=months_back(3), today=timezone.localdate(), unit="k-hours")
    assert len(chart.rows) == MAX_MONTHS + 6 and chart.rows[0].month == first and chart.rows[-1].running == 10
    assert len(chart.months) == MAX_MONTHS and chart.months[-1].month == months_back(0)
