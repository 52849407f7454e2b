"""Writes of accounting: usage reports from providers land here, with the resources' current usage."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from decimal import Decimal

from django.db import DatabaseError, models, transaction
from django.db.models import Aggregate, Exists, OuterRef, Subquery
from django.utils import timezone

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
        changed = sum(_store(report, reported_at) for report in reports)
        _current_usages_refresh({report.resource_id for report in reports})
    return changed


def usage_report_each(*, reports: list[UsageReport], reported_at: datetime | None = None) -> list[int | DatabaseError]:
    """Store each report on its own, in a savepoint: per report, the rows changed or the database error.

    A report that cannot be stored leaves the others stored; the current usage of the resources
    whose reports were stored follows in the same transaction.
    """
    reported_at = reported_at or timezone.now()
    outcomes: list[int | DatabaseError] = []
    with transaction.atomic():
        for report in reports:
            try:
                with transaction.atomic():
                    outcomes.append(_store(report, reported_at))
            except DatabaseError as exc:
                outcomes.append(exc)
        stored = {
            report.resource_id for report, outcome in zip(reports, outcomes, strict=True) if isinstance(outcome, int)
        }
        _current_usages_refresh(stored)
    return outcomes


def _store(report: UsageReport, reported_at: datetime) -> int:
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
        ComponentUsage.objects.create(
            resource_id=report.resource_id,
            component_type=report.component_type,
            billing_period=period,
            username=report.username,
            usage=report.usage,
            reported_at=reported_at,
        )
        return 1
    if row.usage == report.usage:
        return 0
    row.decreased = report.usage < row.usage
    row.previous_usage = row.usage
    row.usage = report.usage
    row.reported_at = reported_at
    row.save(update_fields=["usage", "decreased", "previous_usage", "reported_at", "modified"])
    return 1


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
