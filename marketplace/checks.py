"""Checks that apps above the marketplace add to placing orders (shares, policies).

The marketplace does not know about shares or policies; the accounting app registers, in its
`AppConfig.ready()`, functions that are called while a create or update order is being placed,
inside the placing transaction and after the order's own validation:

    from marketplace.checks import register_order_check

    register_order_check(shares_check_order)

A check gets the order's type (`create` or `update`), the project, the offering, the limits the
resource would have, and for an update the locked resource (its `limits` are still the old ones).
It raises a `common.exceptions.DomainError` (a Conflict, 409, for "not now") to refuse the order,
and may lock rows of its own (`select_for_update`) so two orders cannot both take the last of
something: the locks last until the placing transaction ends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from federation.models import Project

    from .models import Offering, Resource


class OrderCheck(Protocol):
    def __call__(
        self, *, order_type: str, project: Project, offering: Offering, limits: dict, resource: Resource | None
    ) -> None: ...


_checks: list[OrderCheck] = []


def register_order_check(check: OrderCheck) -> None:
    if check not in _checks:
        _checks.append(check)


def order_checks_run(
    *, order_type: str, project: Project, offering: Offering, limits: dict, resource: Resource | None = None
) -> None:
    """Run every registered check, in registration order; the first refusal stops the order."""
    for check in _checks:
        check(order_type=order_type, project=project, offering=offering, limits=limits, resource=resource)
