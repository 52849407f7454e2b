"""Reading an APEL message as APEL's loader does: the whole message, or a rejection with APEL's reason.

A message is a header line, then records separated by `%%`; a record line is `Key: Value` split at
the first colon, keys case-sensitive, values stripped; `none`, `null` (any case) and empty are
null. Integers and floats are read as Python reads them; a datetime is epoch seconds or ISO
`YYYY-MM-DDTHH:MM:SSZ`. One bad record rejects the whole message, and the reason is the text
APEL's loader gives (typos and all), so a site sees the same answer from us as from EGI.

One rule is stricter than APEL's: a float must be finite (APEL would store `nan`).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from .formats import BENCHMARK_TYPES, FORMATS, RecordFormat

NULLS = ("none", "null", "")
FUTURE_MARGIN = timedelta(days=2)  # APEL's allowance for clocks and time zones


class MessageRejected(ValueError):
    """The whole message is refused; `reason` is APEL's text, `record` the 0-based record it is about."""

    def __init__(self, reason: str, record: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.record = record


def is_null(value: str) -> bool:
    return value.lower() in NULLS


def parse_message(text: str, *, now: datetime | None = None) -> tuple[RecordFormat, list[dict]]:
    """The message's format and its records ({field: value}, nulls as None), or MessageRejected."""
    return read_header(text)[0], list(iter_records(text, now=now))


def read_header(text: str) -> tuple[RecordFormat, str]:
    """The format named by the first line, and the text after it."""
    header, _, body = text.strip().partition("\n")
    header = header.strip()
    if ":" not in header:
        raise MessageRejected("Message header is incorrect: substring not found")
    name, version = (part.strip() for part in header.split(":", 1))
    fmt = FORMATS.get(f"{name}: {version}")
    if fmt is None:
        raise MessageRejected(f"Message type {header} not recognised.")
    return fmt, body


def iter_records(text: str, *, now: datetime | None = None):
    """Each record of the message in turn, checked; a bad one raises MessageRejected naming it."""
    fmt, body = read_header(text)
    now = now or datetime.now(UTC)
    index = 0
    for block in body.strip().split("%%"):
        if not block.strip():
            continue
        try:
            yield parse_record(fmt, block, now=now)
        except MessageRejected as exc:
            exc.record = index
            raise
        index += 1


def parse_record(fmt: RecordFormat, block: str, *, now: datetime) -> dict:
    record: dict = {}
    for line in block.strip().splitlines():
        if ":" not in line:
            raise MessageRejected(f"Record contains a line  without a key-value pair: {line}")
        key, value = (part.strip() for part in line.split(":", 1))
        if key not in fmt.fields:
            raise MessageRejected(f"Unknown field: {key}")
        record[key] = _typed(fmt, key, value)
    for key in fmt.mandatory:
        if record.get(key) is None:
            raise MessageRejected(f"Mandatory field {key} not specified.")
    if fmt.name == "job":
        _check_job(record, now)
    elif fmt.name == "summary":
        _check_summary(record, now)
    return record


def _typed(fmt: RecordFormat, key: str, value: str):
    if is_null(value):
        if key in fmt.mandatory:
            raise MessageRejected(f"NULL in mandatory field: {key}")
        return None
    if key in fmt.ints:
        try:
            return int(value)
        except ValueError:
            raise MessageRejected(f"Invalid int value {value} in field {key}") from None
    if key in fmt.floats:
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise MessageRejected(f"Invalid float value {value} in field {key}")
        return number
    if key in fmt.datetimes:
        return parse_datetime(value)
    return value


def parse_datetime(value: str) -> datetime:
    """Epoch seconds, or ISO with a trailing Z, as an aware UTC datetime."""
    try:
        seconds = int(value)
    except ValueError:
        try:
            return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except ValueError:
            raise MessageRejected(f"Unknown datetime format!: {value}") from None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise MessageRejected(str(exc)) from None


def _naive(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")


def _check_job(record: dict, now: datetime) -> None:
    """The benchmark pair (both or neither is refused when absent, see below) and the times."""
    unit, value = record.get("ServiceLevelType"), record.get("ServiceLevel")
    if unit is None and value is None:
        # APEL 2.5.0 refuses a job record that names no benchmark at load.
        raise MessageRejected("Mandatory field ServiceLevelType not specified.")
    if unit is None or value is None:
        raise MessageRejected("Unit but not value supplied for ScalingFactor.")  # APEL's text, either way round
    if unit.lower() not in {t.lower() for t in BENCHMARK_TYPES}:
        raise MessageRejected(f"ScalingFactorUnit {unit} not valid.")
    start, end = record["StartTime"], record["EndTime"]
    if end < start:
        raise MessageRejected("EndTime is before StartTime.")
    if end > now + FUTURE_MARGIN:
        raise MessageRejected(f"Epoch time {_naive(end)} is in the future.")


def _check_summary(record: dict, now: datetime) -> None:
    """Month 1–12 and not in the future, end times inside the month, no negative durations."""
    year, month = record["Year"], record["Month"]
    try:
        month_start = datetime(year, month, 1, tzinfo=UTC)
        month_end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
    except (ValueError, OverflowError):
        raise MessageRejected("Invalid values for month and/or year.") from None
    earliest, latest = record.get("EarliestEndTime"), record.get("LatestEndTime")
    if earliest is not None and latest is not None:
        if not month_start <= earliest <= month_end:
            raise MessageRejected("EarliestEndTime is not within stated month.")
        if not month_start <= latest <= month_end:
            raise MessageRejected("LatestEndTime is not within stated month.")
        if earliest > latest:
            raise MessageRejected("LatestEndTime is earlier than EarliestEndTime.")
    if month_start > now:
        raise MessageRejected("Month specified in record is in the future.")
    if record["WallDuration"] < 0 or record["CpuDuration"] < 0:
        raise MessageRejected("Negative WallDuration")  # APEL's text for either duration
