"""Writing APEL messages: records in the format's field order, nulls left out, at most N per message."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal

from .formats import RecordFormat

MAX_RECORDS = 500  # per message we write; cASO sends 100


def _text(value) -> str:
    if isinstance(value, datetime):
        return str(int(value.timestamp()))
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, float):
        return format(Decimal(repr(value)).normalize(), "f")
    return str(value)


def format_record(fmt: RecordFormat, record: dict) -> str:
    """`Key: Value` lines in the format's order; None and unknown keys are not written."""
    lines = []
    for key in fmt.fields:
        value = record.get(key)
        if value is not None and value != "":
            lines.append(f"{key}: {_text(value)}")
    return "\n".join(lines)


def message_text(fmt: RecordFormat, records: Iterable[dict]) -> str:
    return fmt.header + "\n" + "".join(format_record(fmt, record) + "\n%%\n" for record in records)


def messages(fmt: RecordFormat, records: Iterable[dict], *, size: int = MAX_RECORDS) -> Iterator[tuple[str, int]]:
    """(message text, record count) for each run of at most `size` records, lazily."""
    chunk: list[dict] = []
    for record in records:
        chunk.append(record)
        if len(chunk) == size:
            yield message_text(fmt, chunk), len(chunk)
            chunk = []
    if chunk:
        yield message_text(fmt, chunk), len(chunk)
