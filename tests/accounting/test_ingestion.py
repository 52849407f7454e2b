"""Usage is written set-based: a fixed number of statements per batch, whatever its size.

Both writers are exercised where the database allows: PostgreSQL's (rows as arrays through
`unnest`) and the ORM's `bulk_create(update_conflicts=True)` that other databases use. They must
store the same rows and record the same events.
"""

import json
import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import DataError, OperationalError, connection, connections
from django.utils import timezone

from accounting import services
from accounting.models import ComponentUsage
from accounting.services import UsageReport, usage_report, usage_report_each
from events.models import Event
from marketplace.models import Resource
from protocol.http import signed_headers
from protocol.messages import UsageRecord
from providers.services import usage_records_import
from tests.factories import ProjectFactory, make_provider

USAGE_URL = "/api/provider/usage/"


@pytest.fixture(params=["arrays", "orm"])
def writer(request, monkeypatch):
    """The statement writer under test: PostgreSQL's arrays (skipped elsewhere) or the ORM's."""
    if request.param == "arrays" and connection.vendor != "postgresql":
        pytest.skip("the array writer is PostgreSQL's")
    if request.param == "orm":
        monkeypatch.setattr(services, "_set_based_sql", lambda: False)
    return request.param


@pytest.fixture
def site(db):
    return make_provider("site-a")


def _resource(site, name="alloc") -> Resource:
    project = ProjectFactory(name=f"{name} project")
    return Resource.objects.create(name=name, slug=name, offering=site.offering, project=project, state="OK")


def _month() -> date:
    return timezone.localdate().replace(day=1)


def _events() -> list[tuple]:
    return [
        (
            e.event_type.rsplit("_", 1)[-1],
            e.context["component_type"],
            e.context["username"],
            e.context["usage"],
            e.context["previous_usage"],
        )
        for e in Event.objects.order_by("id")
    ]


def test_reports_of_one_row_in_one_batch_are_taken_in_turn(site, writer):
    resource = _resource(site)
    month = _month()
    usage_report(reports=[UsageReport(resource.id, "cpu", month, Decimal("4"))])
    Event.objects.all().delete()
    reports = [
        UsageReport(resource.id, "cpu", month, Decimal("5")),
        UsageReport(resource.id, "cpu", month.replace(day=17), Decimal("3")),
        UsageReport(resource.id, "cpu", month, Decimal("3")),
        UsageReport(resource.id, "gpu", month, Decimal("2")),
        UsageReport(resource.id, "cpu", month, Decimal("7")),
        UsageReport(resource.id, "cpu", month, Decimal("1"), username="alice"),
        UsageReport(resource.id, "cpu", month, Decimal("0.5"), username="alice"),
    ]
    assert usage_report_each(reports=reports) == [1, 1, 0, 1, 1, 1, 1]
    row = ComponentUsage.objects.get(resource=resource, component_type="cpu", username="")
    assert (row.usage, row.previous_usage, row.decreased) == (Decimal("7"), Decimal("3"), False)
    assert _events() == [
        ("reported", "cpu", "", "5", "4"),
        ("decreased", "cpu", "", "3", "5"),
        ("reported", "gpu", "", "2", None),
        ("reported", "cpu", "", "7", "3"),
        ("decreased", "cpu", "alice", "0.5", "1"),  # a per-user row records an event only when it decreases
    ]
    resource.refresh_from_db()
    assert resource.current_usages == {"cpu": 7, "gpu": 2}
    assert ComponentUsage.objects.filter(resource=resource).count() == 3


def test_a_decrease_as_the_last_report_leaves_the_row_flagged(site, writer):
    resource = _resource(site)
    month = date(2026, 3, 1)
    usage_report(reports=[UsageReport(resource.id, "cpu", month, Decimal("9.5"))])
    reports = [UsageReport(resource.id, "cpu", month, Decimal(amount)) for amount in ("12", "2")]
    changed = usage_report(reports=reports)
    assert changed == 2
    row = ComponentUsage.objects.get(resource=resource)
    assert (row.usage, row.previous_usage, row.decreased) == (Decimal("2"), Decimal("12"), True)


def test_a_batch_sent_again_changes_nothing(site, writer):
    resource = _resource(site)
    reports = [UsageReport(resource.id, "cpu", _month(), Decimal(i), username=f"u{i}" if i else "") for i in range(20)]
    assert usage_report_each(reports=reports) == [1] * 20
    before = list(ComponentUsage.objects.order_by("id").values_list("id", "usage", "modified", "reported_at"))
    events = Event.objects.count()
    assert usage_report_each(reports=reports) == [0] * 20
    assert list(ComponentUsage.objects.order_by("id").values_list("id", "usage", "modified", "reported_at")) == before
    assert Event.objects.count() == events == 1  # the resource's total; per-user rows that grow record none


def test_a_report_that_cannot_be_stored_is_refused_alone(site, writer):
    resource = _resource(site)
    month = _month()
    reports = [
        UsageReport(resource.id, "cpu", month, Decimal("1")),
        UsageReport(resource.id, "gpu", month, Decimal("1e20")),  # more digits than the column holds
        UsageReport(resource.id, "ram", month, Decimal("3")),
    ]
    first, refused, third = usage_report_each(reports=reports)
    assert (first, third) == (1, 1) and isinstance(refused, DataError)
    assert dict(ComponentUsage.objects.values_list("component_type", "usage")) == {"cpu": 1, "ram": 3}
    assert [event[1] for event in _events()] == ["cpu", "ram"]
    resource.refresh_from_db()
    assert resource.current_usages == {"cpu": 1, "ram": 3}


def test_all_or_none_raises_and_stores_nothing(site, writer):
    resource = _resource(site)
    with pytest.raises(DataError):
        usage_report(
            reports=[
                UsageReport(resource.id, "cpu", _month(), Decimal("1")),
                UsageReport(resource.id, "gpu", _month(), Decimal("1e20")),
            ]
        )
    assert not ComponentUsage.objects.exists() and not Event.objects.exists()


# -- the number of statements does not grow with the batch ----------------------------------------

# SAVEPOINT, the upsert (which reads, compares and writes), the current-usage UPDATE, the policies
# of the batch's projects, customers and offerings (none here), the events INSERT (which reads the
# events' resources itself), RELEASE.
STATEMENTS_PER_BATCH = 6


def _batch(resource, size: int, amount: int = 1) -> list[UsageReport]:
    """The whole resource's row of this month, and per-user rows."""
    return [
        UsageReport(resource.id, "cpu", _month(), Decimal(amount), username=f"u{i:03}" if i else "")
        for i in range(size)
    ]


@pytest.mark.postgresql
@pytest.mark.parametrize("size", [1, 500])
def test_a_batch_costs_the_same_statements_at_any_size(site, django_assert_num_queries, size):
    resource = _resource(site)
    usage_report(reports=[UsageReport(resource.id, "gpu", _month(), Decimal("1"))])
    with django_assert_num_queries(STATEMENTS_PER_BATCH):
        assert usage_report_each(reports=_batch(resource, size)) == [1] * size  # new rows
    with django_assert_num_queries(STATEMENTS_PER_BATCH):
        assert usage_report_each(reports=_batch(resource, size, amount=2)) == [1] * size  # changed rows
    with django_assert_num_queries(3):  # nothing changed: the upsert, writing nothing, in its savepoint
        assert usage_report_each(reports=_batch(resource, size, amount=2)) == [0] * size
    assert Event.objects.count() == 1 + 2  # the gpu row, then the resource's cpu total twice


def _post(client, keys, records):
    body = json.dumps({"records": records}).encode()
    headers = signed_headers(
        private_key=keys.key, kid=keys.kid, issuer=keys.slug, audience="federation", method="POST", path=USAGE_URL,
        body=body,
    )  # fmt: skip
    return client.post(
        USAGE_URL, data=body, content_type="application/json", HTTP_AUTHORIZATION=headers["Authorization"]
    )


def _records(resource, size: int, first_cursor: int = 1) -> list[dict]:
    return [
        {
            "cursor": first_cursor + i,
            "resource_uuid": str(resource.uuid),
            "backend_id": "acct-1",
            "component_type": "cpu",
            "billing_month": _month().isoformat(),
            "amount": "1.5",
            "username": f"user-{i:03}" if i else "",
        }
        for i in range(size)
    ]


@pytest.mark.postgresql
@pytest.mark.parametrize("size", [1, 500])
def test_the_provider_api_costs_the_same_statements_at_any_size(client, site, django_assert_num_queries, size):
    resource = _resource(site)
    others = _resource(site, "other")
    records = _records(resource, size)
    records[-1]["resource_uuid"] = str(others.uuid)  # two resources, unless the batch is of one
    # the provider, its token's replay guard (an INSERT between SAVEPOINT and RELEASE), the batch's
    # resources, then the batch's statements
    with django_assert_num_queries(5 + STATEMENTS_PER_BATCH):
        answer = _post(client, site.keys, records)
    assert answer.status_code == 200, answer.content
    assert answer.json()["imported"] == size
    assert all(result["accepted"] for result in answer.json()["results"])
    assert ComponentUsage.objects.count() == size


# -- a busy database -----------------------------------------------------------------------------


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_a_batch_that_waits_too_long_for_a_lock_is_answered_retry_item_by_item(site):
    """Another transaction holds one row of the batch; the lock timeout refuses every record, retry."""
    resource = _resource(site)
    usage_report(reports=[UsageReport(resource.id, "cpu", _month(), Decimal("1"))])
    locked, release = threading.Event(), threading.Event()

    def hold_the_row():
        other = connections.create_connection("default")
        try:
            other.set_autocommit(False)
            with other.cursor() as cursor:
                cursor.execute(f"SELECT id FROM {ComponentUsage._meta.db_table} FOR UPDATE")
                locked.set()
                release.wait(timeout=30)
                other.rollback()
        finally:
            other.close()

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    try:
        assert locked.wait(timeout=30)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '200ms'")
        records = _records(resource, 3)
        records[0]["username"] = ""  # the locked row
        parsed = [UsageRecord.from_dict(record) for record in records]
        changed, results = usage_records_import(provider=site.provider, records=parsed, raw=records)
    finally:
        release.set()
        holder.join(timeout=30)
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    assert changed == 0
    assert [(r["cursor"], r["accepted"], r["retry"]) for r in results] == [(1, False, True), (2, False, True),
                                                                           (3, False, True)]  # fmt: skip
    assert ComponentUsage.objects.count() == 1
    outcomes = usage_report_each(reports=[UsageReport(resource.id, "cpu", _month(), Decimal("2"))])
    assert outcomes == [1] and not isinstance(outcomes[0], OperationalError)
