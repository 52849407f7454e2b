"""How the test suite itself is laid out: shared fixtures in conftests, named fixture objects, one set of
builders, and database-specific tests that say so."""

import ast
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.db import connections

from tests.markers import postgresql_skip_reason

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
BUILT_BY_FACTORIES = {"Offering", "OfferingComponent", "Plan", "PlanComponent", "Provider", "ProviderOffering"}


def _modules(*folders: Path):
    for folder in folders:
        for path in sorted(folder.rglob("*.py")):
            yield path, ast.parse(path.read_text(), filename=str(path))


def _fixtures(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and any("fixture" in ast.unparse(d) for d in node.decorator_list):
            yield node


def _own_statements(function):
    """The statements of `function`, leaving out those of functions defined inside it."""
    todo = list(function.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        yield node
        todo.extend(ast.iter_child_nodes(node))


def test_the_postgresql_tests_carry_the_marker():
    tree = ast.parse((TESTS / "marketplace" / "test_concurrency.py").read_text())
    marks = [
        ast.unparse(n.value) for n in tree.body if isinstance(n, ast.Assign) and ast.unparse(n).startswith("pytestmark")
    ]
    assert marks == ["pytest.mark.postgresql"]
    assert [n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")] == [
        "test_simultaneous_approvals_give_one_success",
        "test_simultaneous_update_limits_give_one_order",
    ]


def test_a_postgresql_test_is_skipped_with_the_reason_on_another_database(monkeypatch):
    marked = SimpleNamespace(get_closest_marker=lambda name: pytest.mark.postgresql.mark)
    unmarked = SimpleNamespace(get_closest_marker=lambda name: None)
    assert postgresql_skip_reason(marked) is None  # this suite runs on PostgreSQL
    monkeypatch.setattr(connections["default"], "vendor", "sqlite")
    assert postgresql_skip_reason(marked) == (
        "needs PostgreSQL (row locks held across connections); the test database is sqlite"
    )
    assert postgresql_skip_reason(unmarked) is None


def test_shared_fixtures_live_in_conftests_and_no_test_module_imports_another():
    for path, tree in _modules(TESTS):
        if path.name.startswith("test_"):
            assert "slurm_cluster" not in {f.name for f in _fixtures(tree)}, path
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or "", *(f"{node.module}.{alias.name}" for alias in node.names)]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                last = name.rsplit(".", 1)[-1]
                assert not last.startswith("test_") and last != "conftest", f"{path}:{node.lineno} imports {name}"
    conftest = ast.parse((TESTS / "conftest.py").read_text())
    assert "slurm_cluster" in {f.name for f in _fixtures(conftest)}


def test_no_fixture_returns_a_bare_tuple():
    for path, tree in _modules(TESTS):
        for fixture in _fixtures(tree):
            for node in _own_statements(fixture):
                if isinstance(node, ast.Return | ast.Yield) and isinstance(node.value, ast.Tuple):
                    pytest.fail(f"{path}:{node.lineno}: fixture {fixture.name} returns a tuple; name its parts")


def test_offerings_and_providers_are_built_only_by_the_factories():
    for path, tree in _modules(TESTS, ROOT / "bench"):
        if path == TESTS / "factories.py":
            continue
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in {"create", "bulk_create", "get_or_create"}
                and ast.unparse(node.func.value).removesuffix(".objects") in BUILT_BY_FACTORIES
            ):
                pytest.fail(f"{path}:{node.lineno}: {ast.unparse(node.func)} by hand; use tests/factories.py")
