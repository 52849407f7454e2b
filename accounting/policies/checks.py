"""The order checks of policies: refuse what an active firing blocks (registered in `AppConfig.ready()`).

A create order is refused (409) while a firing of the current period blocks creation in its project,
the project's customer or the offering; an update order that raises any limit while one blocks
modification. Lowering limits and terminating are never blocked. One query per order.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.utils import timezone

from common.exceptions import Conflict
from marketplace.models import OrderType

from . import selectors
from .services import reason_of


def _increases(old: dict, new: dict) -> bool:
    for key, value in new.items():
        try:
            if Decimal(str(value)) > Decimal(str(old.get(key, 0) or 0)):
                return True
        except (InvalidOperation, ValueError):
            continue
    return False


def policies_check_order(*, order_type: str, project, offering, limits: dict, resource=None) -> None:
    """Refuse, with a 409 naming the policy, an order that an active firing blocks."""
    if order_type == OrderType.CREATE:
        field, what = "blocks_creation", "new orders"
    elif order_type == OrderType.UPDATE and resource is not None and _increases(resource.limits or {}, limits or {}):
        field, what = "blocks_modification", "limit increases"
    else:
        return
    firing = selectors.active_firings_blocking(
        field=field, project=project, offering=offering, today=timezone.localdate()
    ).first()
    if firing is not None:
        raise Conflict(
            f"Refused by {reason_of(firing)}; it blocks {what} until {firing.period_end.isoformat()} "
            "or until its limit is raised.",
            field="limits" if field == "blocks_modification" else None,
        )
