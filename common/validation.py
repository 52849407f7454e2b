"""Bounds of what the database can hold, shared by the API's fields and the services.

PostgreSQL refuses NUL (U+0000) in text and in jsonb strings, keeps integers in 64 bits and has
no infinity or NaN in jsonb; a value past those bounds must be refused as bad input, never
reach a query.
"""

from __future__ import annotations

import math

from django.core.exceptions import ValidationError

MAX_BIGINT = 2**63 - 1
# Deepest nesting of lists and objects accepted in a JSON body or JSON-typed value.
JSON_MAX_DEPTH = 32


def json_problem(value, *, max_depth: int = JSON_MAX_DEPTH) -> str | None:
    """What keeps `value` (parsed JSON) from being stored as jsonb, or None when nothing does.

    The message names where the problem is (`a.b[2]`). Walks the value without recursion, so a
    deep value cannot exhaust the stack.
    """
    stack = [(value, "", 1)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > max_depth:
                return f"{path or 'value'}: nested deeper than {max_depth} levels."
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in pairs:
                if isinstance(key, str):
                    if "\x00" in key:
                        return f"{path or 'value'}: a key contains a NUL character (\\u0000)."
                    child_path = f"{path}.{key}" if path else key
                else:
                    child_path = f"{path}[{key}]"
                stack.append((child, child_path, depth + 1))
        elif isinstance(item, str):
            if "\x00" in item:
                return f"{path or 'value'}: NUL characters (\\u0000) are not allowed."
        elif isinstance(item, float) and not math.isfinite(item):
            return f"{path or 'value'}: numbers must be finite."
    return None


def validate_json_storable(value) -> None:
    """Validator of every JSON value a client gives (API fields, model fields edited in forms)."""
    problem = json_problem(value)
    if problem:
        raise ValidationError(problem, code="unstorable")


def json_depth_exceeds(value, max_depth: int = JSON_MAX_DEPTH) -> bool:
    """Whether lists and objects in parsed JSON `value` nest deeper than `max_depth` (without recursion).

    Walks one level at a time; a list or object holding no list or object (most of a request: the
    records of a batch) is passed over by one check run in C, without a Python step per value.
    """
    level = [value] if isinstance(value, _CONTAINERS) else []
    depth = 0
    while level:
        depth += 1
        if depth > max_depth:
            return True
        below = []
        for item in level:
            children = item.values() if isinstance(item, dict) else item
            if not _CONTAINER_TYPES.isdisjoint(map(type, children)):
                below.extend(child for child in children if isinstance(child, _CONTAINERS))
        level = below
    return False


_CONTAINERS = (dict, list)
_CONTAINER_TYPES = frozenset(_CONTAINERS)  # parsed JSON holds these exact types, never subclasses
