"""The messages of the provider protocol as dataclasses.

`from_dict` validates a decoded JSON value and raises ProtocolError naming the offending field by
its path (`items[2].resource.uuid`); `to_dict` gives the JSON-ready form. Sequences are tuples.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

ORDER_TYPES = ("create", "update", "terminate")
ORDER_STATES = ("accepted", "executing", "done", "erred")
UPDATE_STATES = ("executing", "done", "erred")
MEMBERSHIP_ACTIONS = ("add", "remove")
MAX_BATCH_ITEMS = 1000
MAX_LIST_ITEMS = 10000
# What the receiving side's records can hold; a message beyond these is refused before it is sent.
MAX_BACKEND_ID = 255
MAX_ERROR_MESSAGE = 10000
MAX_COMPONENT_TYPE = 50
MAX_USERNAME = 64
MAX_USAGE_AMOUNT = Decimal(10) ** 18  # exclusive; amounts are stored with 18 digits before the point
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])-01$")


class ProtocolError(ValueError):
    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason

    def to_dict(self) -> dict:
        return {"field": self.field, "reason": self.reason}


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored as text (a NUL character, or a lone surrogate), or None."""
    if "\x00" in value:
        return "must not contain NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode text"
    return None


def clean_text(value: str, max_length: int) -> str:
    """`value` made storable: NULs and lone surrogates dropped, cut to `max_length` characters."""
    value = value.replace("\x00", "").encode("utf-8", "ignore").decode("utf-8")
    return value[:max_length]


def parse_each(data: Any, key: str, parse: Callable[[Any, str], Any], *, max_items: int = MAX_LIST_ITEMS) -> list:
    """The list under `key`, each entry parsed on its own: the message, or the ProtocolError naming it.

    For receivers that answer per item: one bad entry must not sink the good ones beside it. The
    envelope itself (an object with a list of at most `max_items`) still raises ProtocolError.
    """
    r = _Reader(data)
    value = r.raw(key)
    if not isinstance(value, list):
        raise ProtocolError(key, "must be a list")
    if len(value) > max_items:
        raise ProtocolError(key, f"must have at most {max_items} entries")
    parsed = []
    for i, item in enumerate(value):
        try:
            parsed.append(parse(item, f"{key}[{i}]"))
        except ProtocolError as exc:
            parsed.append(exc)
    return parsed


class _Reader:
    """Reads the fields of one JSON object, naming each field by its full path in errors."""

    def __init__(self, data: Any, path: str = ""):
        if not isinstance(data, dict):
            raise ProtocolError(path or "body", "must be an object")
        self.data = data
        self.path = path

    def name(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def raw(self, key: str, default: Any = dataclasses.MISSING) -> Any:
        if key in self.data:
            return self.data[key]
        if default is dataclasses.MISSING:
            raise ProtocolError(self.name(key), "is required")
        return default

    def str(self, key: str, *, empty: bool = False, default: Any = dataclasses.MISSING, max_length=255):
        value = self.raw(key, default)
        if value is None and default is None:
            return None
        if not isinstance(value, str):
            raise ProtocolError(self.name(key), "must be a string")
        if not empty and not value.strip():
            raise ProtocolError(self.name(key), "must not be empty")
        if len(value) > max_length:
            raise ProtocolError(self.name(key), f"must be at most {max_length} characters")
        problem = text_problem(value)
        if problem:
            raise ProtocolError(self.name(key), problem)
        return value

    def uuid(self, key: str) -> str:
        value = self.str(key, max_length=36)
        try:
            uuid.UUID(value)
        except ValueError:
            raise ProtocolError(self.name(key), "must be a UUID") from None
        return value

    def choice(self, key: str, choices: tuple[str, ...]) -> str:
        value = self.raw(key)
        if value not in choices:
            raise ProtocolError(self.name(key), f"must be one of {', '.join(choices)}")
        return value

    def bool(self, key: str, default: Any = dataclasses.MISSING) -> bool:
        value = self.raw(key, default)
        if not isinstance(value, bool):
            raise ProtocolError(self.name(key), "must be true or false")
        return value

    def int(self, key: str, *, minimum: int = 0, default: Any = dataclasses.MISSING) -> int:
        value = self.raw(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise ProtocolError(self.name(key), f"must be an integer >= {minimum}")
        return value

    def object(self, key: str, default: Any = dataclasses.MISSING) -> dict:
        value = self.raw(key, default)
        if not isinstance(value, dict):
            raise ProtocolError(self.name(key), "must be an object")
        return value

    def limits(self, key: str, default: Any = dataclasses.MISSING) -> dict[str, int]:
        value = self.object(key, default)
        for component, amount in value.items():
            if not component or not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
                raise ProtocolError(f"{self.name(key)}.{component}", "must be an integer >= 0")
        return dict(value)

    def list(self, key: str, parse, *, default: Any = dataclasses.MISSING, max_items=MAX_LIST_ITEMS) -> tuple:
        value = self.raw(key, default)
        if not isinstance(value, list):
            raise ProtocolError(self.name(key), "must be a list")
        if len(value) > max_items:
            raise ProtocolError(self.name(key), f"must have at most {max_items} entries")
        return tuple(parse(item, f"{self.name(key)}[{i}]") for i, item in enumerate(value))

    def nested(self, key: str, cls, *, nullable: bool = False):
        value = self.raw(key, None if nullable else dataclasses.MISSING)
        if value is None and nullable:
            return None
        return cls.from_dict(value, self.name(key))


class Message:
    def to_dict(self) -> dict:
        """The JSON shape: nested messages as objects, sequences as lists."""
        return _plain(dataclasses.asdict(self))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _uuid_item(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise ProtocolError(path, "must be a UUID")
    try:
        uuid.UUID(value)
    except ValueError:
        raise ProtocolError(path, "must be a UUID") from None
    return value
