"""Writes of accounting: usage reports from providers land here, with the resources' current usage.

Each usage row a report changes is recorded as an event (`marketplace_component_usage_reported`, or
`..._decreased` when the new month total is lower than the one before), in the report's transaction:
the events of one call are inserted in one statement, after one query for the resources they name.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from decimal import Decimal

from django.db import DatabaseError, models, transaction
from django.db.models import Aggregate, Exists, OuterRef, Subquery
from django.utils import timezone

from events.models import Event
from events.services import event_build, events_insert
from marketplace.models import Resource

from .models import ComponentUsage


@dataclasses.dataclass(frozen=True)
class UsageReport:
    resource_id: int
    component_type: str
    billing_period: date
    usage: Decimal
    username: str = ""


def usage_report(*, reports: list[UsageReport], reported_at: datetime | None = None) -> int:
    """Store month-cumulative usage: the newest report replaces the month's amount.

    A report lower than the stored amount is kept (providers may correct themselves) but the row is
    flagged `decreased` with the previous amount, so accounting staff can see it. The resources'
    current usage follows in the same transaction. All reports are stored or none; returns the
    number of rows changed.
    """
    reported_at = reported_at or timezone.now()
    with transaction.atomic():
        rows = [row for row in (_store(report, reported_at) for report in reports) if row is not None]
        _current_usages_refresh({report.resource_id for report in reports})
        _usage_events_insert(rows)
    return len(rows)


def usage_report_each(*, reports: list[UsageReport], reported_at: datetime | None = None) -> list[int | DatabaseError]:
    """Store each report on its own, in a savepoint: per report, the rows changed or the database error.

    A report that cannot be stored leaves the others stored; the current usage of the resources
    whose reports were stored follows in the same transaction.
    """
    reported_at = reported_at or timezone.now()
    outcomes: list[ComponentUsage | None | DatabaseError] = []
    with transaction.atomic():
        for report in reports:
            try:
                with transaction.atomic():
                    outcomes.append(_store(report, reported_at))
            except DatabaseError as exc:
                outcomes.append(exc)
        stored = {
            report.resource_id
            for report, outcome in zip(reports, outcomes, strict=True)
            if not isinstance(outcome, DatabaseError)
        }
        _current_usages_refresh(stored)
        _usage_events_insert([outcome for outcome in outcomes if isinstance(outcome, ComponentUsage)])
    return [outcome if isinstance(outcome, DatabaseError) else int(outcome is not None) for outcome in outcomes]


def _store(report: UsageReport, reported_at: datetime) -> ComponentUsage | None:
    """Write one report; the row it created or changed, or None when the month already held that amount."""
    period = report.billing_period.replace(day=1)
    row = (
        ComponentUsage.objects.select_for_update()
        .filter(
            resource_id=report.resource_id,
            component_type=report.component_type,
            billing_period=period,
            username=report.username,
        )
        .first()
    )
    if row is None:
        return ComponentUsage.objects.create(
            resource_id=report.resource_id,
            component_type=report.component_type,
            billing_period=period,
            username=report.username,
            usage=report.usage,
            reported_at=reported_at,
        )
    if row.usage == report.usage:
        return None
    row.decreased = report.usage < row.usage
    row.previous_usage = row.usage
    row.usage = report.usage
    row.reported_at = reported_at
    row.save(update_fields=["usage", "decreased", "previous_usage", "reported_at", "modified"])
    return row


def _amount(value) -> str:
    """A usage amount as an exact decimal string without trailing zeros ("2", "1.5")."""
    return format(Decimal(value).normalize(), "f")


def _usage_event(row: ComponentUsage, resource: Resource) -> Event:
    return event_build(
        "marketplace_component_usage_decreased" if row.decreased else "marketplace_component_usage_reported",
        scope=("resource", resource.uuid),
        customer=resource.project.customer.uuid,
        project=resource.project.uuid,
        offering=resource.offering.uuid,
        context={
            "component_type": row.component_type,
            "billing_period": row.billing_period.isoformat(),
            "username": row.username,
            "usage": _amount(row.usage),
            "previous_usage": None if row.previous_usage is None else _amount(row.previous_usage),
            "resource_name": resource.name,
        },
    )


def _usage_events_insert(rows: list[ComponentUsage]) -> None:
    """One event per changed usage row, inserted in one statement."""
    if not rows:
        return
    resources = Resource.objects.select_related("project__customer", "offering").only(
        "uuid", "name", "project__uuid", "project__customer__uuid", "offering__uuid"
    )
    resources = resources.in_bulk({row.resource_id for row in rows})
    events_insert(_usage_event(row, resources[row.resource_id]) for row in rows)


class _JSONObjectAgg(Aggregate):
    """{key: value} of the grouped rows; a decimal value stays the exact number the database holds."""

    function = "JSONB_OBJECT_AGG"
    output_field = models.JSONField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, function="JSON_GROUP_OBJECT", **extra_context)


def _current_usages_refresh(resource_ids: set[int]) -> None:
    """Each resource's `current_usages`: {component: usage} of this month's whole-resource rows.

    Built by the database from the stored decimals (no float on the way), in one UPDATE; a
    resource with no usage this month keeps what it has.
    """
    if not resource_ids:
        return
    this_month = ComponentUsage.objects.filter(
        resource_id=OuterRef("pk"), billing_period=timezone.localdate().replace(day=1), username=""
    )
    usages = (
        this_month.order_by()
        .values("resource_id")
        .annotate(usages=_JSONObjectAgg("component_type", "usage"))
        .values("usages")
    )
    Resource.objects.filter(id__in=resource_ids).filter(Exists(this_month)).update(current_usages=Subquery(usages))
