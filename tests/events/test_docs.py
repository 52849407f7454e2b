"""docs/events.md lists exactly the event types of the catalogue, with their scope and context fields."""

import re
from pathlib import Path

from events.types import EVENT_TYPES

DOC = Path(__file__).resolve().parents[2] / "docs" / "events.md"
HEADER = ["name", "scope", "when", "context fields"]


def _type_table() -> dict[str, tuple[str, tuple[str, ...]]]:
    """{name: (scope, context fields)} from the table whose header is `HEADER`."""
    rows, in_table = {}, False
    for line in DOC.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")] if line.startswith("|") else None
        if cells == HEADER:
            in_table = True
        elif in_table and cells is None:
            break
        elif in_table and not set(line) <= set("|- "):
            name, scope, _when, context = cells
            name = name.strip("`")
            assert name not in rows, f"{name} is listed twice"
            rows[name] = (scope.replace(" or ", "|"), tuple(re.findall(r"`([^`]+)`", context)))
    assert rows, f"no table with the header {HEADER} in {DOC}"
    return rows


def test_the_doc_lists_every_event_type_with_its_scope_and_context_and_nothing_more():
    listed = _type_table()
    assert sorted(listed) == sorted(EVENT_TYPES)
    for name, kind in EVENT_TYPES.items():
        assert listed[name] == (kind.scope, kind.context), name


def test_the_doc_is_linked_from_the_readme():
    assert "(docs/events.md)" in (DOC.parents[1] / "README.md").read_text()
