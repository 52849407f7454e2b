"""The statements PostgreSQL runs for a batch write what the ORM's would.

On PostgreSQL the events of a batch are built by one INSERT … SELECT and the current usage by one
composed UPDATE; elsewhere (and here, with the set-based SQL turned off) the ORM builds them. The
same batches must leave the same events and current usage either way. A batch written outside a
transaction takes one of its own, with the same answers as in a savepoint.
"""

from datetime import date
from decimal import Decimal

import pytest
from django.db import DataError, connection, transaction
from django.utils import timezone

from accounting import services
from accounting.models import ComponentUsage
from accounting.services import UsageReport, usage_report, usage_report_each
from events.models import Event
from marketplace.models import Resource
from tests.factories import ProjectFactory, make_provider

pytestmark = pytest.mark.postgresql

EVENT_FIELDS = (
    "event_type", "message", "actor_uuid", "actor_username", "scope_type", "scope_uuid", "customer_uuid",
    "project_uuid", "resource_uuid", "order_uuid", "offering_uuid", "provider_uuid", "context", "dispatched_at",
)  # fmt: skip


def _resources() -> list[Resource]:
    site = make_provider("site-a")
    return [
        Resource.objects.create(
            name=f"alloc {name}", slug=name, offering=site.offering, project=ProjectFactory(name=name), state="OK"
        )
        for name in ("alpha", "beta")
    ]


def _month() -> date:
    return timezone.localdate().replace(day=1)


def _batches(alpha: Resource, beta: Resource) -> list[list[UsageReport]]:
    month, last = _month(), date(2025, 1, 1)
    return [
        [
            UsageReport(alpha.id, "cpu", month, Decimal("100")),
            UsageReport(alpha.id, "gpu", month, Decimal("1.5000000000")),
            UsageReport(alpha.id, "cpu", month, Decimal("4"), username="ann"),
            UsageReport(beta.id, "cpu", month, Decimal("0.0000000001")),
            UsageReport(beta.id, "cpu", last, Decimal("7")),  # another month: not current usage
        ],
        [
            UsageReport(alpha.id, "cpu", month, Decimal("99.5")),  # lower: decreased
            UsageReport(alpha.id, "cpu", month, Decimal("2"), username="ann"),  # a user's row lower: an event
            UsageReport(alpha.id, "cpu", month, Decimal("5"), username="bob"),  # a user's new row: none
            UsageReport(beta.id, "cpu", month, Decimal("0")),
            UsageReport(beta.id, "gpu", month, Decimal("12345678901234567.0000000001")),
        ],
    ]


def _written(batches) -> tuple[list[tuple], dict]:
    for batch in batches:
        usage_report(reports=batch)
    events = [tuple(row) for row in Event.objects.order_by("id").values_list(*EVENT_FIELDS)]
    current = dict(Resource.objects.values_list("name", "current_usages"))
    return events, current


def test_events_and_current_usage_are_those_the_orm_writes(db, monkeypatch):
    alpha, beta = _resources()
    with transaction.atomic():
        by_sql = _written(_batches(alpha, beta))
        transaction.set_rollback(True)
    monkeypatch.setattr(services, "_set_based_sql", lambda: False)
    by_orm = _written(_batches(alpha, beta))
    assert by_sql == by_orm
    events, current = by_sql
    assert [(e[0].rsplit("_", 1)[1], e[12]["usage"], e[12]["previous_usage"]) for e in events] == [
        ("reported", "100", None),
        ("reported", "1.5", None),
        ("reported", "0.0000000001", None),
        ("reported", "7", None),
        ("decreased", "99.5", "100"),
        ("decreased", "2", "4"),
        ("decreased", "0", "0.0000000001"),
        ("reported", "12345678901234567.0000000001", None),
    ]
    assert events[0][12] == {
        "component_type": "cpu",
        "billing_period": _month().isoformat(),
        "username": "",
        "usage": "100",
        "previous_usage": None,
        "resource_name": "alloc alpha",
    }
    assert (events[0][4], events[0][5], events[0][8]) == ("resource", alpha.uuid, alpha.uuid)
    assert current["alloc alpha"] == {"cpu": 99.5, "gpu": 1.5} and current["alloc beta"]["cpu"] == 0


def test_current_usage_of_a_resource_without_usage_this_month_is_kept(db):
    alpha, beta = _resources()
    Resource.objects.filter(id=beta.id).update(current_usages={"cpu": 3})
    usage_report(reports=[UsageReport(beta.id, "cpu", date(2025, 1, 1), Decimal("1"))])
    usage_report(reports=[UsageReport(alpha.id, "cpu", _month(), Decimal("1"))])
    assert dict(Resource.objects.values_list("name", "current_usages")) == {
        "alloc alpha": {"cpu": 1},
        "alloc beta": {"cpu": 3},
    }


@pytest.mark.django_db(transaction=True)
def test_a_batch_outside_a_transaction_takes_one_of_its_own():
    alpha, beta = _resources()
    assert not connection.in_atomic_block
    reports = [
        UsageReport(alpha.id, "cpu", _month(), Decimal("1")),
        UsageReport(alpha.id, "gpu", _month(), Decimal("1e20")),  # more digits than the column holds
        UsageReport(beta.id, "cpu", _month(), Decimal("3")),
    ]
    first, refused, third = usage_report_each(reports=reports)
    assert (first, third) == (1, 1) and isinstance(refused, DataError)
    assert sorted(ComponentUsage.objects.values_list("component_type", "usage")) == [("cpu", 1), ("cpu", 3)]
    assert Event.objects.count() == 2
    assert dict(Resource.objects.values_list("name", "current_usages")) == {
        "alloc alpha": {"cpu": 1},
        "alloc beta": {"cpu": 3},
    }
    assert usage_report_each(reports=[reports[0], reports[2]]) == [0, 0]
    assert Event.objects.count() == 2
