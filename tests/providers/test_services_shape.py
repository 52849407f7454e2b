"""The providers app has one services package, and one function writes every outbox row."""

import ast
import importlib
from pathlib import Path

import pytest

from providers import services

ROOT = Path(__file__).resolve().parents[2]
WRITES = {"create", "get_or_create", "update_or_create", "bulk_create"}
OUTBOX_WRITER = Path("providers/services/outbox.py")


@pytest.mark.parametrize("module", ["inbound", "outbox", "relay", "sync", "health", "signing"])
def test_the_writes_live_in_the_services_package(module):
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module(f"providers.{module}")
    assert importlib.import_module(f"providers.services.{module}")
    assert hasattr(services, "__path__") and all(callable(getattr(services, name)) for name in services.__all__)


def _creates_outbox_row(call: ast.Call) -> bool:
    """`OutboxMessage(...)` or `OutboxMessage.objects.<create, get_or_create, ...>(...)`."""
    func = call.func
    if isinstance(func, ast.Name):
        return func.id == "OutboxMessage"
    manager = func.value if isinstance(func, ast.Attribute) and func.attr in WRITES else None
    return (
        isinstance(manager, ast.Attribute)
        and manager.attr == "objects"
        and isinstance(manager.value, ast.Name)
        and manager.value.id == "OutboxMessage"
    )


def _outbox_row_writes(tree) -> list[int]:
    return [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Call) and _creates_outbox_row(node)]


def test_every_outbox_row_is_written_by_one_function():
    writes = {}
    for path in sorted(ROOT.glob("providers/**/*.py")):
        relative = path.relative_to(ROOT)
        if "migrations" not in relative.parts:
            lines = _outbox_row_writes(ast.parse(path.read_text()))
            if lines:
                writes[str(relative)] = lines
    assert list(writes) == [str(OUTBOX_WRITER)], writes
    tree = ast.parse((ROOT / OUTBOX_WRITER).read_text())
    writers = {fn.name for fn in ast.walk(tree) if isinstance(fn, ast.FunctionDef) and _outbox_row_writes(fn)}
    assert writers == {"_outbox_put"}
