"""Exporting usage as APEL summaries: job summaries (v0.2) for HPC offerings, cloud summaries (v0.4) for cloud.

One record per mapped offering, month, VO (the project's) and user; the mapped components are
the record's fields, each usage times its factor (durations rounded to whole seconds). A user's
rows become a record with GlobalUserName; the rest of the resource's total (the whole-resource
row less its users' rows) a record without one, so the records add up to the total, as APEL's
repository adds them.

The rows are read with a server-side cursor in (project, resource, user) order and records are
written as each project is done, so memory holds one project's users, never the month. Messages
hold at most 500 records, and each is read back by our strict parser before it is written: what
we hand to `ssmsend` is what APEL's loader accepts.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

from django.db.models import CharField, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone

from accounting.models import ComponentUsage
from apel.messages import CLOUD_SUMMARY, SUMMARY, RecordFormat, element_names, messages, parse_message, queue_add
from apel.models import ApelMapping, MappingKind

from .mappings import default_vo, factor

CHUNK = 2000  # rows per fetch of the server-side cursor


@dataclasses.dataclass
class ExportResult:
    messages: int = 0
    records: int = 0
    paths: list[Path] = dataclasses.field(default_factory=list)


def export_mappings(*, provider=None):
    mappings = ApelMapping.objects.select_related("offering").order_by("id")
    if provider is not None:
        mappings = mappings.filter(offering__provider_link__provider=provider)
    return mappings


def export_messages(*, month: date, provider=None, now: datetime | None = None) -> Iterator[tuple[str, int]]:
    """(message text, record count) for the month, mapping by mapping, each checked by our parser."""
    now = now or timezone.now()
    for mapping in export_mappings(provider=provider):
        fmt = CLOUD_SUMMARY if mapping.kind == MappingKind.CLOUD else SUMMARY
        for text, count in messages(fmt, summary_records(mapping, month, fmt)):
            parse_message(text, now=now)  # raises MessageRejected: a bug of ours, never sent on
            yield text, count


def apel_export(*, month: date, out: Path, provider=None, now: datetime | None = None) -> ExportResult:
    """Write the month's messages into `out` as an SSM outgoing queue (`ssmsend` ships it as it is)."""
    result = ExportResult()
    names = element_names()
    for text, count in export_messages(month=month, provider=provider, now=now):
        result.paths.append(queue_add(out, text, names))
        result.messages += 1
        result.records += count
    return result


def _rows(mapping: ApelMapping, month: date):
    vo = Coalesce(
        NullIf("resource__project__apel_vo__vo", Value("")),
        NullIf("resource__project__backend_id", Value("")),
        Value(default_vo(mapping)),
        output_field=CharField(),
    )
    return (
        ComponentUsage.objects.filter(
            resource__offering_id=mapping.offering_id, billing_period=month, component_type__in=list(mapping.components)
        )
        .annotate(vo=vo)
        .order_by("resource__project_id", "resource_id", "username", "component_type")
        .values_list("resource__project_id", "vo", "resource_id", "username", "component_type", "usage")
        .iterator(chunk_size=CHUNK)
    )


def summary_records(mapping: ApelMapping, month: date, fmt: RecordFormat) -> Iterator[dict]:
    """The month's summary records of one mapping, a project at a time."""
    project = vo = resource = None
    users: dict[str | None, dict[str, Decimal]] = {}
    resources = 0
    totals: dict[str, Decimal] = {}
    own: dict[str, dict[str, Decimal]] = {}
    for project_id, row_vo, resource_id, username, component, usage in _rows(mapping, month):
        if resource_id != resource:
            if resource is not None:
                _add_resource(users, totals, own)
            resource, totals, own = resource_id, {}, {}
            resources += 1
        if project_id != project:
            if project is not None:
                yield from _records(mapping, month, fmt, vo, users, resources - 1)
            project, vo, users, resources = project_id, row_vo, {}, 1
        if username:
            own.setdefault(username, {})[component] = usage
        else:
            totals[component] = usage
    if resource is not None:
        _add_resource(users, totals, own)
        yield from _records(mapping, month, fmt, vo, users, resources)


def _add_resource(users: dict, totals: dict[str, Decimal], own: dict[str, dict[str, Decimal]]) -> None:
    """A resource's users' rows, and what of its total they leave (kept at zero when users exceed it)."""
    for username, amounts in own.items():
        for component, usage in amounts.items():
            users.setdefault(username, defaultdict(Decimal))[component] += usage
    for component, total in totals.items():
        rest = total - sum((amounts.get(component, Decimal(0)) for amounts in own.values()), Decimal(0))
        if rest > 0 or not own:
            users.setdefault(None, defaultdict(Decimal))[component] += max(rest, Decimal(0))


def _apel_value(mapping: ApelMapping, component: str, usage: Decimal, fmt: RecordFormat):
    field = mapping.components[component]["field"]
    amount = usage * factor(mapping, component)
    if field in fmt.ints:
        return field, int(amount.to_integral_value(rounding=ROUND_HALF_EVEN))
    return field, amount.quantize(Decimal("1e-6")).normalize()


def _records(mapping, month: date, fmt: RecordFormat, vo: str, users: dict, resources: int) -> Iterator[dict]:
    for username in sorted(users, key=lambda name: (name is not None, name or "")):
        record = {"Month": month.month, "Year": month.year, "GlobalUserName": username, "VO": vo or None}
        record.update(_apel_value(mapping, c, usage, fmt) for c, usage in users[username].items())
        if fmt is SUMMARY:
            record.update(
                Site=mapping.site_name,
                SubmitHost=mapping.service or None,
                ServiceLevelType=mapping.benchmark_type or None,
                ServiceLevel=mapping.benchmark_value,
                WallDuration=record.get("WallDuration", 0),
                CpuDuration=record.get("CpuDuration", 0),
                NumberOfJobs=0,  # jobs are not counted here; the durations carry the usage
            )
        else:
            record.update(
                SiteName=mapping.site_name,
                CloudComputeService=mapping.service or None,
                BenchmarkType=mapping.benchmark_type or None,
                Benchmark=mapping.benchmark_value,
                NumberOfVMs=resources,  # allocations of the VO, as VMs are not known here
            )
        yield record
