"""A batch of usage records checked column by column, for the batch whose every record is plain.

Providers send usage by the hundred, and nearly always every record of a batch is plainly valid
(ASCII text, a canonical UUID, exact types: what `UsageRecord._plain` takes). `plain_usage_batch`
checks a whole batch at once, a column at a time, with the checks run by C code (`map`, `set`,
`str.join`) rather than a Python function per record. It accepts a batch only when every record is
one `UsageRecord.from_dict` takes on its short path, and then gives the same values; any other
batch (a record with an error, non-ASCII text, an envelope that is not a list...) gets None, and
the caller parses it record by record, which names each error exactly as before.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal, InvalidOperation
from itertools import repeat

from protocol.messages import MAX_LIST_ITEMS, MAX_USAGE_AMOUNT
from protocol.messages.base import _MONTH, MAX_BACKEND_ID, MAX_COMPONENT_TYPE, MAX_USERNAME
from protocol.messages.exchange import _CANONICAL_UUID

MAX_AMOUNT_LENGTH = 64  # as UsageRecord
_TEXT_FIELDS = ("resource_uuid", "backend_id", "component_type", "billing_month", "amount")


@dataclasses.dataclass(frozen=True)
class PlainBatch:
    """The records' fields, a list per field, in the batch's order (`amounts` already parsed)."""

    cursors: list[int]
    resource_uuids: list[str]
    component_types: list[str]
    billing_months: list[str]
    amounts: list[Decimal]
    usernames: list[str]


def plain_usage_batch(data) -> PlainBatch | None:
    """The batch under `records` of a request body, when every record in it is plainly valid; else None."""
    if type(data) is not dict:
        return None
    items = data.get("records")
    if type(items) is not list or len(items) > MAX_LIST_ITEMS:
        return None
    if set(map(type, items)) - {dict}:
        return None
    cursors = _column(items, "cursor")
    if set(map(type, cursors)) - {int} or (cursors and min(cursors) < 1):
        return None
    texts = [_column(items, key) for key in _TEXT_FIELDS]
    texts.append(list(map(dict.get, items, repeat("username"), repeat(""))))
    if any(set(map(type, column)) - {str} for column in texts):
        return None
    joined = "".join("".join(column) for column in texts)
    if not joined.isascii() or "\x00" in joined:
        return None
    resource_uuids, backend_ids, component_types, months, amounts, usernames = texts
    if not items:
        return PlainBatch([], [], [], [], [], [])
    if (
        not all(map(_CANONICAL_UUID.fullmatch, resource_uuids))
        or max(map(len, backend_ids)) > MAX_BACKEND_ID
        or not all(map(str.strip, component_types))
        or max(map(len, component_types)) > MAX_COMPONENT_TYPE
        or max(map(len, usernames)) > MAX_USERNAME
        or not all(_MONTH.fullmatch(month) and not month.startswith("0000") for month in set(months))
        or not all(map(str.strip, amounts))
        or max(map(len, amounts)) > MAX_AMOUNT_LENGTH
    ):
        return None
    try:
        numbers = list(map(Decimal, amounts))
    except InvalidOperation:
        return None
    if not all(map(Decimal.is_finite, numbers)) or min(numbers) < 0 or max(numbers) >= MAX_USAGE_AMOUNT:
        return None
    return PlainBatch(cursors, resource_uuids, component_types, months, numbers, usernames)


def _column(items: list[dict], key: str) -> list:
    return list(map(dict.get, items, repeat(key)))
