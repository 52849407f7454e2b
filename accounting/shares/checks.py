"""The order check of shares: a limit in an offering component with shares draws from the project's share.

Registered with `marketplace.checks` in `AccountingConfig.ready()`; it runs inside the placing
transaction. For each component of the order whose limit goes up (a create order's positive limits,
an update order's raised ones):

- the customer has no share of that component in the offering: nothing to check (unrestricted);
- otherwise the customer share current today is the tree's root, and the order draws from the
  project's share of it, or from the customer share itself when the project has none. A customer
  with shares but none current today gets nothing new (0 left);
- the new limit must not exceed what is left (see `arithmetic.left`), counted without the resource
  being changed. Otherwise: Conflict (409) naming the component, how much is left and its unit.

The customer's share rows (the roots) are locked (`select_for_update`) first, as every change to
a tree locks its root, so two orders drawing from one
tree are placed one after the other and the second sees the first's resource: only one of two
orders for the last of a share gets through. The locks last until the placing transaction ends.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from common.exceptions import Conflict

from . import arithmetic, selectors


def _raised(limits: dict, old: dict) -> dict[str, Decimal]:
    raised = {}
    for component, value in limits.items():
        new = selectors.amount_of(value)
        if new > 0 and new > selectors.amount_of(old.get(component)):
            raised[component] = new
    return raised


def _number(value: Decimal) -> str:
    return f"{value.normalize():f}"


def shares_check_order(*, order_type, project, offering, limits, resource=None) -> None:
    """Refuse (409) a limit beyond what is left of the project's (or else the customer's) share."""
    raised = _raised(limits or {}, (resource.limits or {}) if resource is not None else {})
    if not raised:
        return
    roots = selectors.current_roots(
        customer_id=project.customer_id, offering_id=offering.id, component_types=raised, lock=True
    )
    if not roots:
        return
    today = timezone.localdate()
    current, governed = {}, set()
    for root in roots:
        governed.add(root.component_type)
        if arithmetic.is_current(root, today):
            current[root.component_type] = root
    trees = {tree.root.component_type: tree for tree in selectors.share_trees(
        list(current.values()), excluding=resource.id if resource is not None else None
    ).values()}  # fmt: skip
    units = None
    for component in sorted(governed):
        tree = trees.get(component)
        node = (tree.child_of(project.id) or tree.root) if tree is not None else None
        available = arithmetic.left(tree, node, today=today) if node is not None else Decimal(0)
        if raised[component] <= available:
            continue
        if units is None:
            units = dict(offering.components.values_list("type", "measured_unit"))
        unit = f" {units.get(component)}" if units.get(component) else ""
        raise Conflict(_message(component, raised[component], available, unit, node, project, today),
                       field=("limits", component))  # fmt: skip


def _message(component, asked, available, unit, node, project, today) -> str:
    if node is None:
        return (f"The customer has no share of {component} in this offering for {today.isoformat()}; "
                f"nothing of it can be ordered now (0{unit} left).")  # fmt: skip
    whose = f"project {project.name}'s share" if node.parent_id else "the customer's share"
    dates = f"{node.start_date.isoformat()} to {node.end_date.isoformat()}"
    return (f"Only {_number(available)}{unit} of {component} is left of {whose} ({dates}); "
            f"{_number(asked)}{unit} asked.")  # fmt: skip
