"""Writes of accounting: usage reports from providers land here."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

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
    flagged `decreased` with the previous amount, so accounting staff can see it. Returns the number
    of rows changed.
    """
    reported_at = reported_at or timezone.now()
    changed = 0
    with transaction.atomic():
        for report in reports:
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
                changed += 1
            elif row.usage != report.usage:
                row.decreased = report.usage < row.usage
                row.previous_usage = row.usage
                row.usage = report.usage
                row.reported_at = reported_at
                row.save(update_fields=["usage", "decreased", "previous_usage", "reported_at", "modified"])
                changed += 1
    return changed
