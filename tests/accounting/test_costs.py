"""Costs per billing type: proration by active days, limit periods, one-time prices, plan switches.

The pricing table is checked on the pure functions; the last tests check that a resource's orders
(create, update, terminate) become the active days and plan periods an invoice is priced from.
"""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from accounting.invoicing.models import Invoice
from accounting.invoicing.pricing import Change, Lifetime, PlanTerms, Price, lines_for_month, periods_in_month
from accounting.invoicing.services import invoice_recompute
from accounting.models import ComponentUsage
from marketplace.models import Order, OrderState, OrderType, Resource
from tests.factories import OfferingComponentFactory, OfferingFactory, PlanComponentFactory, PlanFactory

D = Decimal
TENTH_PLACES = D("0.0000000001")


def price(billing_type, unit_price, *, amount=1, period="", component="cpu", unit="k-hours"):
    return Price(component, billing_type, period, unit, D(unit_price), amount)


def terms(plan_id, *prices, unit="month", name=None):
    return PlanTerms(plan_id, name or f"plan {plan_id}", unit, tuple(prices))


def frac(numerator, denominator):
    return (D(numerator) / D(denominator)).quantize(TENTH_PLACES)


# (case, lifetime, plan prices, plan unit, usage, month, [(quantity, unit, start, end)])
CASES = [
    ("fixed, whole 31-day month", Lifetime(date(2026, 1, 1), None, 1, {}), price("fixed", "31"), "month", {},
     (2026, 3), [(D(1), "month", date(2026, 3, 1), date(2026, 3, 31))]),
    ("fixed, first half of March (15 of 31 days)", Lifetime(date(2026, 1, 1), date(2026, 3, 15), 1, {}),
     price("fixed", "31"), "month", {}, (2026, 3), [(frac(15, 31), "month", date(2026, 3, 1), date(2026, 3, 15))]),
    ("fixed, created mid-February (14 of 28 days)", Lifetime(date(2026, 2, 15), None, 1, {}), price("fixed", "10"),
     "month", {}, (2026, 2), [(D("0.5"), "month", date(2026, 2, 15), date(2026, 2, 28))]),
    ("fixed, leap February to its 29th", Lifetime(date(2028, 2, 1), date(2028, 2, 29), 1, {}), price("fixed", "10"),
     "month", {}, (2028, 2), [(D(1), "month", date(2028, 2, 1), date(2028, 2, 29))]),
    ("fixed, a week of a 28-day February", Lifetime(date(2027, 2, 22), None, 1, {}), price("fixed", "10"), "month",
     {}, (2027, 2), [(D("0.25"), "month", date(2027, 2, 22), date(2027, 2, 28))]),
    ("fixed, amount 2 of a daily plan, 10 days", Lifetime(date(2026, 4, 21), None, 1, {}),
     price("fixed", "3", amount=2), "day", {}, (2026, 4), [(D(20), "day", date(2026, 4, 21), date(2026, 4, 30))]),
    ("fixed, hourly plan, terminated on its first day", Lifetime(date(2026, 5, 31), date(2026, 5, 31), 1, {}),
     price("fixed", "1"), "hour", {}, (2026, 5), [(D(24), "hour", date(2026, 5, 31), date(2026, 5, 31))]),
    ("usage, the month's total", Lifetime(date(2026, 1, 1), None, 1, {}), price("usage", "2"), "month",
     {"cpu": D("12.5")}, (2026, 6), [(D("12.5"), "k-hours", date(2026, 6, 1), date(2026, 6, 30))]),
    ("usage, none reported", Lifetime(date(2026, 1, 1), None, 1, {}), price("usage", "2"), "month", {}, (2026, 6), []),
    ("limit, monthly, whole month", Lifetime(date(2026, 1, 1), None, 1, {"cpu": 100}), price("limit", "1"), "month",
     {}, (2026, 7), [(D(100), "k-hours", date(2026, 7, 1), date(2026, 7, 31))]),
    ("limit, monthly, half of February", Lifetime(date(2026, 2, 15), None, 1, {"cpu": 100}), price("limit", "1"),
     "month", {}, (2026, 2), [(D(50), "k-hours", date(2026, 2, 15), date(2026, 2, 28))]),
    ("limit, quarterly, a third each month", Lifetime(date(2026, 1, 1), None, 1, {"cpu": 300}),
     price("limit", "1", period="quarter"), "month", {}, (2026, 8), [(D(100), "k-hours", date(2026, 8, 1),
                                                                       date(2026, 8, 31))]),
    ("limit, annual, a twelfth each month, across the year end", Lifetime(date(2025, 12, 1), None, 1, {"cpu": 1200}),
     price("limit", "1", period="annual"), "month", {}, (2026, 1), [(D(100), "k-hours", date(2026, 1, 1),
                                                                      date(2026, 1, 31))]),
    ("limit, annual, leap February half", Lifetime(date(2028, 2, 1), date(2028, 2, 15), 1, {"cpu": 1200}),
     price("limit", "1", period="annual"), "month", {}, (2028, 2), [(frac(1200 * 15, 29 * 12), "k-hours",
                                                                      date(2028, 2, 1), date(2028, 2, 15))]),
    ("limit, total, whole limit when the resource starts", Lifetime(date(2026, 3, 20), None, 1, {"cpu": 500}),
     price("limit", "1", period="total"), "month", {}, (2026, 3), [(D(500), "k-hours", date(2026, 3, 20),
                                                                     date(2026, 3, 31))]),
    ("limit, total, nothing in later months", Lifetime(date(2026, 3, 20), None, 1, {"cpu": 500}),
     price("limit", "1", period="total"), "month", {}, (2026, 4), []),
    ("limit, total, an increase is billed when made",
     Lifetime(date(2026, 3, 20), None, 1, {"cpu": 500}, (Change(date(2026, 4, 10), 1, {"cpu": 700}),)),
     price("limit", "1", period="total"), "month", {}, (2026, 4), [(D(200), "k-hours", date(2026, 4, 10),
                                                                     date(2026, 4, 30))]),
    ("one-time, in the month the resource starts", Lifetime(date(2026, 9, 30), None, 1, {}),
     price("one", "50", amount=1), "month", {}, (2026, 9), [(D(1), "once", date(2026, 9, 30), date(2026, 9, 30))]),
    ("one-time, not again", Lifetime(date(2026, 9, 30), None, 1, {}), price("one", "50"), "month", {}, (2026, 10), []),
    ("not yet started", Lifetime(date(2026, 11, 1), None, 1, {}), price("fixed", "1"), "month", {}, (2026, 10), []),
    ("terminated the month before", Lifetime(date(2026, 1, 1), date(2026, 9, 30), 1, {}), price("fixed", "1"),
     "month", {}, (2026, 10), []),
]  # fmt: skip


@pytest.mark.parametrize(("lifetime", "prices", "unit", "usage", "month", "expected"),
                         [case[1:] for case in CASES], ids=[case[0] for case in CASES])  # fmt: skip
def test_price_per_billing_type(lifetime, prices, unit, usage, month, expected):
    lines = lines_for_month(lifetime, {1: terms(1, prices, unit=unit)}, usage, *month)
    assert [(line.quantity, line.unit, line.start, line.end) for line in lines] == expected
    for line in lines:
        assert line.price == line.quantity * line.unit_price == line.quantity * prices.price


def test_a_plan_switch_splits_the_month_and_charges_the_new_plans_one_time_price():
    lifetime = Lifetime(date(2026, 1, 5), None, 1, {"cpu": 28}, (Change(date(2026, 2, 15), 2, {"cpu": 56}),))
    plans = {
        1: terms(1, price("fixed", "100", component="base"), price("limit", "1"), price("usage", "3", component="gpu")),
        2: terms(2, price("fixed", "200", component="base"), price("limit", "1"), price("usage", "5", component="gpu"),
                 price("one", "40", component="switch")),
    }  # fmt: skip
    lines = lines_for_month(lifetime, plans, {"gpu": D(7)}, 2026, 2)
    got = [(line.plan_id, line.component_type, line.quantity, line.price, line.start, line.end) for line in lines]
    first, second = (date(2026, 2, 1), date(2026, 2, 14)), (date(2026, 2, 15), date(2026, 2, 28))
    assert got == [
        (1, "base", D("0.5"), D(50), *first),
        (1, "cpu", D(14), D(14), *first),
        (2, "base", D("0.5"), D(100), *second),
        (2, "cpu", D(28), D(28), *second),
        (2, "gpu", D(7), D(35), *second),  # the month's usage at the price of the plan the month ends on
        (2, "switch", D(1), D(40), *second),
    ]


def test_periods_cover_each_active_day_once():
    lifetime = Lifetime(
        date(2026, 1, 31),
        date(2026, 3, 2),
        1,
        {},
        (Change(date(2026, 2, 1), 2, {}), Change(date(2026, 2, 28), 3, {}), Change(date(2026, 3, 1), 1, {})),
    )
    days = []
    for year, month in [(2026, 1), (2026, 2), (2026, 3)]:
        for period in periods_in_month(lifetime, year, month):
            days += [
                (period.plan_id, period.start.toordinal() + i) for i in range((period.end - period.start).days + 1)
            ]
    assert len(days) == len({day for _, day in days}) == 31
    assert [plan for plan, _ in days] == [1] + [2] * 27 + [3] + [1] * 2


# -- from orders to invoice items -------------------------------------------------------------------------


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


@pytest.fixture
def two_plans(customer):
    offering = OfferingFactory(customer=customer, name="HPC")
    base = OfferingComponentFactory(offering=offering, type="base", billing_type="fixed", limit_period="")
    cpu = OfferingComponentFactory(offering=offering, type="cpu", billing_type="usage", limit_period="",
                                   measured_unit="k-hours")  # fmt: skip
    small, large = PlanFactory(offering=offering, name="Small"), PlanFactory(offering=offering, name="Large")
    for plan, monthly in ((small, "28"), (large, "56")):
        PlanComponentFactory(plan=plan, component=base, price=D(monthly), amount=1)
        PlanComponentFactory(plan=plan, component=cpu, price=D("0.5"))
    return {"offering": offering, "small": small, "large": large}


def test_orders_give_the_active_days_and_plan_periods(db, project, two_plans):
    resource = Resource.objects.create(name="r", slug="r", offering=two_plans["offering"], project=project,
                                       plan=two_plans["large"], state="Terminated")  # fmt: skip
    Resource.objects.filter(id=resource.id).update(created=at(date(2026, 1, 30)))
    orders = [
        (OrderType.CREATE, two_plans["small"], date(2026, 2, 3)),  # approved and run on 3 February
        (OrderType.UPDATE, two_plans["large"], date(2026, 2, 15)),
        (OrderType.TERMINATE, None, date(2026, 2, 21)),
    ]
    for kind, plan, completed in orders:
        Order.objects.create(type=kind, state=OrderState.DONE, offering=two_plans["offering"], plan=plan,
                             project=project, resource=resource, completed_at=at(completed))  # fmt: skip
    Order.objects.create(type=OrderType.UPDATE, state=OrderState.REJECTED, offering=two_plans["offering"],
                         plan=two_plans["small"], project=project, resource=resource)  # fmt: skip
    ComponentUsage.objects.create(resource=resource, component_type="cpu", billing_period=date(2026, 2, 1),
                                  usage=D("10"), reported_at=timezone.now())  # fmt: skip
    invoice_recompute(customer=project.customer, year=2026, month=2)
    items = Invoice.objects.get(customer=project.customer, year=2026, month=2).items.order_by("start", "component_type")
    got = [(i.plan_name, i.component_type, i.start.day, i.end.day, i.quantity, i.price) for i in items]
    assert got == [
        ("Small", "base", 3, 14, D("0.4285714286"), D("0.4285714286") * 28),
        ("Large", "base", 15, 21, D("0.25"), D(14)),
        ("Large", "cpu", 15, 21, D(10), D(5)),
    ]
    invoice_recompute(customer=project.customer, year=2026, month=1)
    assert not Invoice.objects.get(customer=project.customer, year=2026, month=1).items.exists()


def test_a_resource_whose_create_order_never_finished_costs_nothing(db, project, two_plans):
    resource = Resource.objects.create(name="r", slug="r", offering=two_plans["offering"], project=project,
                                       plan=two_plans["small"], state="Erred")  # fmt: skip
    Order.objects.create(type=OrderType.CREATE, state=OrderState.ERRED, offering=two_plans["offering"],
                         plan=two_plans["small"], project=project, resource=resource)  # fmt: skip
    today = date.today()
    invoice = invoice_recompute(customer=project.customer, year=today.year, month=today.month)
    assert invoice.total == 0 and not invoice.items.exists()
