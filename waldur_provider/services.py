"""Usage that a Waldur site agent reports, written through accounting's one write path.

`set_usage` carries a resource's month-cumulative totals, `set_user_usages` one component's
per-user amounts for the month of an earlier total. Both become `UsageReport`s for
`accounting.services.usage_report`: a repeated report changes nothing, a lower one is kept and
flagged. Only the owners of the provider organisation (and staff) may report, and only for the
offering's own components; a refused report stores nothing.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from accounting.models import ComponentUsage
from accounting.periods import month_start
from accounting.services import UsageReport, usage_report
from common.exceptions import PermissionDenied, ValidationFailed
from federation.models import User
from marketplace.models import Resource
from marketplace.permissions import can_review_as_provider

WHO_MAY_REPORT = "the owners of the provider organisation"
# What a usage row holds: 28 digits, 10 of them decimals.
MAX_AMOUNT = Decimal(10) ** 18


def _check(actor: User, resource: Resource) -> None:
    if not can_review_as_provider(actor, resource.offering):
        raise PermissionDenied(f"Only {WHO_MAY_REPORT} may report usage of this resource.")


def _amount(value, field: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationFailed("Give the amount as a number.", field=field) from None
    if not amount.is_finite() or amount < 0 or amount >= MAX_AMOUNT:
        raise ValidationFailed(f"The amount must be a number from 0 to below {MAX_AMOUNT:,}.", field=field)
    return amount


def component_usages_set(*, actor: User, resource: Resource, usages: list[dict], date: datetime) -> int:
    """Store the month's totals of `resource` (the month of `date`); returns how many rows changed."""
    _check(actor, resource)
    known = set(resource.offering.components.values_list("type", flat=True))
    period = month_start(date.date())
    reports = []
    for index, item in enumerate(usages):
        if item["type"] not in known:
            raise ValidationFailed(f"The offering has no component {item['type']!r}.", field=f"usages[{index}].type")
        amount = _amount(item["amount"], f"usages[{index}].amount")
        reports.append(UsageReport(resource.id, item["type"], period, amount))
    return usage_report(reports=reports)


def component_user_usages_set(*, actor: User, total: ComponentUsage, usages: list[dict]) -> int:
    """Store per-user amounts of the component and month of `total` (a resource's total row)."""
    _check(actor, total.resource)
    reports = []
    for index, item in enumerate(usages):
        amount = _amount(item["usage"], f"usages[{index}].usage")
        reports.append(
            UsageReport(total.resource_id, total.component_type, total.billing_period, amount, item["username"])
        )
    return usage_report(reports=reports)
