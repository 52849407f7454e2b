"""States are named through their enums, and the order state groups are defined once (models/orders.py)."""

import ast
from pathlib import Path

import pytest

from marketplace.models import OrderState, OrderType, ResourceState
from providers.models import OutboxMessage, Provider, UserConnection

ROOT = Path(__file__).resolve().parents[2]
APPS = ("marketplace", "providers", "accounting", "portal")
STATE_VALUES = {
    str(value)
    for enum in (OrderState, OrderType, ResourceState, OutboxMessage.State, UserConnection.State, Provider.Status)
    for value in enum.values
}
GROUPS_HOME = Path("marketplace/models/orders.py")


def _code_files():
    """The apps' modules, apart from migrations and model definitions (whose constraint conditions
    are written as the migrations have them)."""
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if "migrations" not in relative.parts and "models" not in relative.parts and path.name != "models.py":
                yield relative, ast.parse(path.read_text(), filename=str(path))


def _literal_states(node) -> list[str]:
    """String constants naming a state, compared against or passed as a state/type filter."""
    found = []
    if isinstance(node, ast.Compare):
        for operand in [node.left, *node.comparators]:
            items = operand.elts if isinstance(operand, ast.Tuple | ast.List | ast.Set) else [operand]
            found += [i.value for i in items if isinstance(i, ast.Constant) and i.value in STATE_VALUES]
    if isinstance(node, ast.keyword) and node.arg and node.arg.split("__")[-1] in ("state", "type", "in", "status"):
        value = node.value
        items = value.elts if isinstance(value, ast.Tuple | ast.List | ast.Set) else [value]
        found += [i.value for i in items if isinstance(i, ast.Constant) and i.value in STATE_VALUES]
    return found


def _order_state_groups(node) -> bool:
    """A tuple, list or set of two or more OrderState members: a state group restated."""
    if not isinstance(node, ast.Tuple | ast.List | ast.Set) or len(node.elts) < 2:
        return False
    return all(
        isinstance(e, ast.Attribute) and isinstance(e.value, ast.Name) and e.value.id == "OrderState" for e in node.elts
    )


@pytest.mark.parametrize("check", ["literal states", "restated order state groups"])
def test_states_are_named_by_their_enums_and_groups_defined_once(check):
    offenders = []
    for path, tree in _code_files():
        for node in ast.walk(tree):
            if check == "literal states":
                offenders += [f"{path}:{node.lineno}: {value!r}" for value in _literal_states(node)]
            elif path != GROUPS_HOME and _order_state_groups(node):
                offenders.append(f"{path}:{node.lineno}")
    assert not offenders, offenders
