"""Usage summaries: the forecast's rate, each period's numbers, the batch selector's fixed query count,
`/api/usage-summaries/` (visibility, filters, aggregates, query counts) and the portal's resource page."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from accounting import forecasts
from accounting.forecasts import Window, daily_rate, forecast
from accounting.models import ComponentUsage
from accounting.summaries import usage_summaries
from marketplace.models import Resource
from tests.factories import CustomerFactory, OfferingComponentFactory, OfferingFactory, ProjectFactory

NOW = datetime(2026, 11, 15, 12, tzinfo=UTC)


def _at(day: date, hour: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _windows(*months) -> list[Window]:
    """(first day, last moment, usage) per month."""
    return [Window(start=_at(start), end=end, usage=Decimal(usage)) for start, end, usage in months]


STEADY = _windows(
    (date(2026, 9, 1), _at(date(2026, 10, 1)), 300),
    (date(2026, 10, 1), _at(date(2026, 11, 1)), 310),
    (date(2026, 11, 1), _at(date(2026, 11, 15)), 140),
)
ACCELERATING = _windows(
    (date(2026, 9, 1), _at(date(2026, 10, 1)), 100),
    (date(2026, 10, 1), _at(date(2026, 11, 1)), 310),
    (date(2026, 11, 1), _at(date(2026, 11, 15)), 280),
)
IDLE = _windows(
    (date(2026, 10, 1), _at(date(2026, 11, 1)), 0),
    (date(2026, 11, 1), _at(date(2026, 11, 15)), 0),
)


# --- the rate and the forecast ------------------------------------------------------------------


def test_a_steady_rate_is_found_exactly():
    assert daily_rate(STEADY, as_of=_at(date(2026, 11, 15))) == pytest.approx(10.0)


def test_an_accelerating_rate_leans_to_the_recent_weeks():
    rate = daily_rate(ACCELERATING, as_of=_at(date(2026, 11, 15)))
    plain_average = 690 / 75
    assert plain_average < rate < 20  # between the average and the latest month's 20 a day
    assert rate > plain_average * 1.25  # about 12: a month ago counts half as much as now


def test_a_short_window_does_not_swing_the_rate():
    """Two hours into a month with a burst of 50 barely moves a month of 10 a day."""
    windows = [*STEADY[:2], Window(start=_at(date(2026, 11, 1)), end=_at(date(2026, 11, 1), 2), usage=Decimal(50))]
    assert daily_rate(windows, as_of=_at(date(2026, 11, 1), 2)) < 12


def test_no_windows_no_rate():
    assert daily_rate([], as_of=NOW) is None


# (name, limit, used, rate, until, state, day)
FORECASTS = [
    ("steady", 1000, 750, 10.0, None, forecasts.EXPECTED, date(2026, 12, 10)),
    ("accelerating", 1000, 750, 25.0, None, forecasts.EXPECTED, date(2026, 11, 25)),
    ("idle", 1000, 750, 0.0, None, forecasts.NOT_AT_THIS_RATE, None),
    ("unknown rate", 1000, 750, None, None, forecasts.NOT_AT_THIS_RATE, None),
    ("already over", 1000, 1900, 10.0, None, forecasts.REACHED, None),
    ("exactly at the limit", 1000, 1000, 0.0, None, forecasts.REACHED, None),
    ("no limit", None, 750, 10.0, None, forecasts.NO_LIMIT, None),
    ("after the period ends", 1000, 750, 10.0, date(2026, 12, 1), forecasts.NOT_AT_THIS_RATE, None),
    ("on the period's last day", 1000, 750, 10.0, date(2026, 12, 11), forecasts.EXPECTED, date(2026, 12, 10)),
    ("beyond the horizon", 10**9, 0, 0.001, None, forecasts.NOT_AT_THIS_RATE, None),
]


@pytest.mark.parametrize(
    ("name", "limit", "used", "rate", "until", "state", "day"), FORECASTS, ids=[f[0] for f in FORECASTS]
)
def test_forecast(name, limit, used, rate, until, state, day):
    limit = None if limit is None else Decimal(limit)
    result = forecast(limit=limit, used=Decimal(used), rate=rate, as_of=NOW, until=until, today=NOW.date())
    assert (result.state, result.day) == (state, day)


def test_a_day_already_past_is_given_as_today():
    """The rate says the limit was reached yesterday; no report says so yet: expected today."""
    stale = NOW - timedelta(days=30)
    result = forecast(limit=Decimal(100), used=Decimal(0), rate=10.0, as_of=stale, until=None, today=NOW.date())
    assert (result.state, result.day) == (forecasts.EXPECTED, NOW.date())


# --- the selector -------------------------------------------------------------------------------


def _resource(offering, project, *, created=datetime(2026, 1, 10, tzinfo=UTC), limits=None, **fields) -> Resource:
    resource = Resource.objects.create(
        name=f"r-{Resource.objects.count()}", slug=f"r-{Resource.objects.count()}", offering=offering,
        project=project, state="OK", limits=limits or {}, **fields,
    )  # fmt: skip
    Resource.objects.filter(pk=resource.pk).update(created=created)
    resource.refresh_from_db()
    return resource


def _usage(resource, component_type, month: date, amount, *, reported_at=None, username=""):
    next_month = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return ComponentUsage.objects.create(
        resource=resource, component_type=component_type, billing_period=month, username=username,
        usage=Decimal(amount), reported_at=reported_at or _at(next_month),
    )  # fmt: skip


@pytest.fixture
def offering(db):
    offering = OfferingFactory(customer=CustomerFactory(name="HPC Centre"))
    for kind in ("month", "quarter", "annual", "total"):
        OfferingComponentFactory(offering=offering, type=kind, name=f"{kind} CPU", limit_period=kind)
    OfferingComponentFactory(offering=offering, type="lifetime", limit_period="")
    OfferingComponentFactory(offering=offering, type="gpu", billing_type="usage", limit_period="")
    return offering


def _by_type(resource, **kwargs):
    return {s.type: s for s in usage_summaries([resource], now=NOW, **kwargs)[resource.id]}


def test_a_resource_that_used_190_percent_shows_190_percent(offering, project):
    resource = _resource(offering, project, created=datetime(2026, 9, 1, tzinfo=UTC), limits={"total": 100})
    _usage(resource, "total", date(2026, 9, 1), 60)
    _usage(resource, "total", date(2026, 10, 1), 70)
    _usage(resource, "total", date(2026, 11, 1), 60, reported_at=_at(date(2026, 11, 14)))
    summary = _by_type(resource)["total"]
    assert (summary.usage_period, summary.usage_month, summary.limit) == (190, 60, 100)
    assert (summary.percent, summary.remaining) == (Decimal("190.00"), 0)
    assert summary.forecast.state == forecasts.REACHED
    assert summary.period.label == "since start" and summary.period.start == date(2026, 9, 1)


def test_each_period_sums_its_own_months(offering, project):
    limits = {"month": 100, "quarter": 300, "annual": 1000, "total": 5000, "lifetime": 5000}
    resource = _resource(offering, project, created=datetime(2024, 3, 5, tzinfo=UTC), limits=limits)
    monthly = {date(2024, 5, 1): 7, date(2025, 12, 1): 11, date(2026, 1, 1): 13, date(2026, 9, 1): 17,
               date(2026, 10, 1): 19, date(2026, 11, 1): 23}  # fmt: skip
    for kind in limits:
        for month, amount in monthly.items():
            _usage(resource, kind, month, amount, reported_at=_at(date(2026, 11, 14)) if month.month == 11 else None)
    summaries = _by_type(resource)
    expected = {"month": 23, "quarter": 19 + 23, "annual": 13 + 17 + 19 + 23, "total": sum(monthly.values())}
    expected["lifetime"] = expected["total"]
    assert {kind: summaries[kind].usage_period for kind in expected} == expected
    assert {kind: summaries[kind].usage_month for kind in expected} == dict.fromkeys(expected, 23)
    assert summaries["quarter"].period.start == date(2026, 10, 1) and summaries["quarter"].period.end == date(
        2027, 1, 1
    )
    assert summaries["annual"].percent == Decimal("7.20")
    assert summaries["total"].period.start == date(2024, 3, 5)
    assert summaries["gpu"].limit is None and summaries["gpu"].forecast.state == forecasts.NO_LIMIT


def test_forecast_from_stored_usage(offering, project):
    """Ten a day for three months; 750 of 1000 used by the report of 3 November: reached on 28 November."""
    resource = _resource(offering, project, created=datetime(2026, 8, 20, tzinfo=UTC), limits={"total": 1000})
    _usage(resource, "total", date(2026, 8, 1), 120)
    _usage(resource, "total", date(2026, 9, 1), 300)
    _usage(resource, "total", date(2026, 10, 1), 310)
    _usage(resource, "total", date(2026, 11, 1), 20, reported_at=_at(date(2026, 11, 3)))
    summary = _by_type(resource)["total"]
    assert summary.usage_period == 750
    assert summary.daily_rate == Decimal("10.0000000000")
    assert (summary.forecast.state, summary.forecast.day) == (forecasts.EXPECTED, date(2026, 11, 28))


def test_a_monthly_limit_not_reached_before_the_month_ends(offering, project):
    resource = _resource(offering, project, limits={"month": 1000})
    _usage(resource, "month", date(2026, 10, 1), 310)
    _usage(resource, "month", date(2026, 11, 1), 140, reported_at=_at(date(2026, 11, 15)))
    summary = _by_type(resource)["month"]
    assert summary.forecast.state == forecasts.NOT_AT_THIS_RATE  # ~10 a day: some 160 more by 1 December, not 860


def test_idle_resource(offering, project):
    resource = _resource(offering, project, limits={"total": 10})
    _usage(resource, "total", date(2026, 10, 1), 0)
    summary = _by_type(resource)["total"]
    assert (summary.usage_period, summary.percent, summary.forecast.state) == (0, 0, forecasts.NOT_AT_THIS_RATE)
    untouched = _resource(offering, project, limits={"total": 10})
    assert _by_type(untouched)["total"].forecast.state == forecasts.NOT_AT_THIS_RATE


def test_users_and_unlisted_components(offering, project):
    resource = _resource(offering, project)
    _usage(resource, "month", date(2026, 11, 1), 5)
    _usage(resource, "month", date(2026, 11, 1), 3, username="bob")
    _usage(resource, "month", date(2026, 11, 1), 2, username="alice")
    _usage(resource, "month", date(2026, 10, 1), 9, username="carol")  # last month: not shown
    _usage(resource, "legacy", date(2026, 11, 1), 4)
    summaries = _by_type(resource, with_users=True)
    assert summaries["month"].users == (("alice", 2), ("bob", 3)) and summaries["month"].usage_period == 5
    assert list(summaries)[-1] == "legacy" and summaries["legacy"].usage_month == 4
    assert _by_type(resource)["month"].users == ()


@pytest.mark.parametrize("count", [2, 20])
def test_the_selector_costs_two_queries_for_any_number_of_resources(
    offering, project, count, django_assert_num_queries
):
    resources = [_resource(offering, project, limits={"total": 100}) for _ in range(count)]
    for resource in resources:
        for month in (date(2025, 1, 1), date(2026, 10, 1), date(2026, 11, 1)):
            _usage(resource, "total", month, 1)
    resources = list(Resource.objects.filter(pk__in=[r.pk for r in resources]))
    with django_assert_num_queries(2):
        summaries = usage_summaries(resources, now=NOW)
    assert all(next(s for s in summaries[r.id] if s.type == "total").usage_period == 3 for r in resources)


# --- the API ------------------------------------------------------------------------------------

URL = "/api/usage-summaries/"


@pytest.fixture
def world(offering, project, member):
    """Three resources of the member's project, one of another customer's; usage this month and last."""
    month = timezone.localdate().replace(day=1)
    last = (month - timedelta(days=1)).replace(day=1)
    mine = [_resource(offering, project, limits={"total": 100, "month": 50}) for _ in range(3)]
    theirs = _resource(offering, ProjectFactory(customer=CustomerFactory(name="Elsewhere")), limits={"total": 10})
    for resource in [*mine, theirs]:
        _usage(resource, "total", last, 40)
        _usage(resource, "total", month, 15, reported_at=timezone.now())
    return {"mine": mine, "theirs": theirs, "project": project}


def test_the_list_shows_each_visible_resource_with_its_components(api, world, member):
    rows = api.as_user(member).get(URL, {"page_size": 50}).json()
    assert {r["resource_uuid"] for r in rows} == {str(r.uuid) for r in world["mine"]}
    total = next(c for c in rows[0]["components"] if c["type"] == "total")
    assert total["usage"] == "55" and total["usage_this_month"] == "15" and total["limit"] == "100"
    assert total["percent"] == "55" and total["remaining"] == "45" and total["period"]["label"] == "since start"
    assert total["forecast"] in {"expected", "not_at_this_rate"}
    month = next(c for c in rows[0]["components"] if c["type"] == "month")
    assert month["usage"] == "0" and month["limit"] == "50" and month["period"]["kind"] == "month"


def test_filters_and_visibility(api, world, member, outsider, staff):
    client = api.as_user(member)
    one = world["mine"][1]
    assert client.get(f"{URL}{one.uuid}/").json()["resource_uuid"] == str(one.uuid)
    assert client.get(f"{URL}{world['theirs'].uuid}/").status_code == 404
    assert [r["resource_uuid"] for r in client.get(URL, {"resource_uuid": one.uuid}).json()] == [str(one.uuid)]
    assert client.get(URL, {"project_uuid": world["project"].uuid})["X-Result-Count"] == "3"
    assert client.get(URL, {"customer_uuid": world["theirs"].project.customer.uuid})["X-Result-Count"] == "0"
    assert client.get(URL, {"project_uuid": "nope"}).status_code == 400
    assert api.as_user(outsider).get(URL)["X-Result-Count"] == "0"
    assert api.as_user(staff).get(URL)["X-Result-Count"] == "4"
    assert api.as_user(None).get(URL).status_code == 401


def test_totals_per_project_and_customer(api, world, member, staff):
    rows = api.as_user(member).get(URL + "by-project/").json()
    assert [r["uuid"] for r in rows] == [str(world["project"].uuid)]
    total = next(c for c in rows[0]["components"] if c["type"] == "total")
    assert (total["resource_count"], total["usage"], total["limit"], total["percent"]) == (3, "165", "300", "55")
    customers = api.as_user(staff).get(URL + "by-customer/").json()
    assert len(customers) == 2
    theirs = next(r for r in customers if r["uuid"] == str(world["theirs"].project.customer.uuid))
    total = next(c for c in theirs["components"] if c["type"] == "total")
    assert (total["usage"], total["limit"], total["reached_count"]) == ("55", "10", 1)


@pytest.mark.parametrize("page_size", [1, 3])
@pytest.mark.parametrize(("path", "queries"), [("", 5), ("by-project/", 6), ("by-customer/", 6)])
def test_query_counts_are_pinned(api, world, staff, django_assert_num_queries, page_size, path, queries):
    """token + count + page (+ the page's resources, for totals) + components + usage."""
    client = api.as_user(staff)
    with django_assert_num_queries(queries):
        response = client.get(URL + path, {"page_size": page_size})
    assert response.status_code == 200 and len(response.json()) >= 1


@pytest.mark.parametrize("path", [URL + "{}/", "/api/marketplace-resources/{}/usage-summary/"])
def test_one_resource_summary_with_a_pinned_query_count(api, world, member, django_assert_num_queries, path):
    client = api.as_user(member)
    for resource in world["mine"]:
        with django_assert_num_queries(4):  # token + resource + components + usage
            response = client.get(path.format(resource.uuid))
        assert response.status_code == 200 and response.json()["resource_uuid"] == str(resource.uuid)
    assert client.get(path.format(world["theirs"].uuid)).status_code == 404


# --- the portal ---------------------------------------------------------------------------------


def test_the_resource_page_shows_the_period_usage_against_the_period_limit(world, member):
    resource = world["mine"][0]
    _usage(resource, "total", timezone.localdate().replace(day=1), 7, username="alice")
    client = Client()
    client.force_login(member)
    page = client.get(f"/resources/{resource.uuid}/").content.decode()
    assert "since start" in page and "this month" in page
    assert "<td>55</td>" in page and "55 %" in page  # 40 last month + 15 this month, of 100
    assert "alice" in page
    assert "<script" not in page and "style=" not in page  # nothing inline (CSP)
