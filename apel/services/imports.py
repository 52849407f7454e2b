"""Importing APEL messages: the whole message is checked first, then its records become usage.

1. The message is parsed with APEL's rules (`apel.messages`); one bad record rejects all of it and
   nothing is stored.
2. Each record finds its mapping by site and service (SiteName/Site, CloudComputeService/SubmitHost)
   — for a provider's own call, only among its own offerings — and its resource in the mapped
   offering: a VM record by LocalGroupId = the resource's backend_id, then any record by its VO
   (VO, or the first part of FQAN) = the VO of the resource's project. A record that finds none is
   kept aside (`UnmatchedApelRecord`), never dropped.
3. Matched records are stored as APEL keys them (`ApelRecord`: a VM per month, a job by LocalJobId
   and EndTime, a summary by its grouping fields); the same record again changes nothing, and a
   VM's later record in a month replaces the earlier one.
4. The months of the resources touched are recomputed from the stored records and written through
   `accounting.services.usage_report`, in the same transaction: per user (LocalUserId, else
   GlobalUserName) and for the resource as a whole (the sum of all its records).

VM records are cumulative since the VM started: a month's usage is the month's latest record minus
the VM's latest record of an earlier month (a size — cores, memory, disk — counts once per hour of
the month's wall time). Every other record is summed as it is.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Context, Decimal

from django.db import transaction
from django.db.models import DecimalField, F, Q, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils import timezone

from accounting.models import ComponentUsage
from accounting.services import UsageReport, usage_report
from apel.messages import CLOUD, JOB, RecordFormat, format_record, parse_message
from apel.models import CLOUD_FIELDS, ApelMapping, ApelRecord, UnmatchedApelRecord

from .mappings import factor, resources_by_backend_id, resources_by_vo

USAGE_PLACES = Decimal("1e-10")
MAX_USAGE = Decimal(10) ** 18
SITE = {"cloud": "SiteName", "cloud-summary": "SiteName", "job": "Site", "summary": "Site"}
SERVICE = {"cloud": "CloudComputeService", "cloud-summary": "CloudComputeService", "job": "SubmitHost"}
SERVICE["summary"] = "SubmitHost"
SUMMARY_KEYS = {
    "summary": ("VO", "VOGroup", "VORole", "GlobalUserName", "SubmitHost", "InfrastructureType",
                "ServiceLevelType", "ServiceLevel", "NodeCount", "Processors"),
    "cloud-summary": ("VO", "VOGroup", "VORole", "GlobalUserName", "Status", "CloudType", "ImageId",
                      "BenchmarkType", "Benchmark"),
}  # fmt: skip


@dataclasses.dataclass
class ImportResult:
    format: str
    records: int = 0
    matched: int = 0
    unmatched: int = 0
    usage_rows_changed: int = 0

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class _Placed:
    mapping: ApelMapping
    key: str
    month: date
    resource_id: int
    username: str
    measured_at: datetime | None
    values: dict
    digest: str  # as an unmatched record's, which it replaces once it matches


def apel_message_import(*, text: str, provider=None, now: datetime | None = None) -> ImportResult:
    """Import one APEL message, all of it or (MessageRejected, nothing stored) none of it.

    `provider` limits the mappings to that provider's offerings (its own signed call); None is an
    operator's import, open to every mapping.
    """
    now = now or timezone.now()
    fmt, records = parse_message(text, now=now)
    result = ImportResult(format=fmt.name, records=len(records))
    with transaction.atomic():
        mappings = _mappings(fmt, records, provider)
        placed, unmatched = _place_all(fmt, records, mappings)
        touched = _store(fmt, placed, now)
        reports = _recompute(touched)
        result.usage_rows_changed = usage_report(reports=reports, reported_at=now) if reports else 0
        _unmatched_store(fmt, unmatched, provider, now)
        if placed:  # a record set aside earlier that matches now (its mapping or resource came since)
            UnmatchedApelRecord.objects.filter(digest__in=[item.digest for item in placed]).delete()
    result.matched, result.unmatched = len(placed), len(unmatched)
    return result


# -- which mapping and resource --------------------------------------------------------------------


def _site_service(fmt: RecordFormat, record: dict) -> tuple[str, str]:
    return record[SITE[fmt.name]], record.get(SERVICE[fmt.name]) or ""


def _mappings(fmt: RecordFormat, records: list[dict], provider) -> dict[tuple[str, str], ApelMapping]:
    pairs = {_site_service(fmt, record) for record in records}
    if not pairs:
        return {}
    wanted = Q()
    for site, service in pairs:
        wanted |= Q(site_name=site, service=service)
    rows = ApelMapping.objects.filter(wanted, kind=fmt.kind).select_related("offering")
    if provider is not None:
        rows = rows.filter(offering__provider_link__provider=provider)
    return {(m.site_name, m.service): m for m in rows}


def record_vo(record: dict) -> str:
    """The record's VO: its VO field, else the first part of its FQAN (`/vo/group/Role=x` or a bare VO)."""
    if record.get("VO"):
        return record["VO"]
    fqan = record.get("FQAN") or ""
    return fqan.strip("/").split("/")[0] if fqan.startswith("/") else fqan


def _username(fmt: RecordFormat, record: dict) -> str:
    name = record.get("LocalUserId") if fmt in (CLOUD, JOB) else None
    return (name or record.get("GlobalUserName") or "")[:100]


def _cloud_time(record: dict) -> datetime | None:
    """When a VM record was measured: RecordCreateTime, else EndTime, else StartTime plus its durations."""
    if record.get("RecordCreateTime"):
        return record["RecordCreateTime"]
    if record.get("EndTime") and record["EndTime"].timestamp() > 0:
        return record["EndTime"]
    if record.get("StartTime") and record.get("WallDuration") is not None:
        return record["StartTime"] + timedelta(seconds=record["WallDuration"] + (record.get("SuspendDuration") or 0))
    return None


def _key_and_month(fmt: RecordFormat, record: dict) -> tuple[str, date | None, datetime | None]:
    if fmt is CLOUD:
        measured = _cloud_time(record)
        return record["VMUUID"], (measured.date().replace(day=1) if measured else None), measured
    if fmt is JOB:
        end = record["EndTime"]
        return f"{record['LocalJobId']}|{int(end.timestamp())}", end.date().replace(day=1), None
    key = "|".join("" if record.get(f) is None else str(record[f]) for f in SUMMARY_KEYS[fmt.name])
    return key, date(record["Year"], record["Month"], 1), None


def _digest(*parts) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()


def _short_key(key: str) -> str:
    return key if len(key) <= 255 else _digest(key)


def _place_all(fmt: RecordFormat, records: list[dict], mappings: dict) -> tuple[list[_Placed], list[tuple]]:
    by_mapping: dict[int, list[int]] = defaultdict(list)
    for index, record in enumerate(records):
        mapping = mappings.get(_site_service(fmt, record))
        if mapping is not None:
            by_mapping[mapping.id].append(index)
    lookups = {}
    for indexes in by_mapping.values():
        mapping = mappings[_site_service(fmt, records[indexes[0]])]
        backend_ids = {records[i].get("LocalGroupId") or "" for i in indexes} if fmt is CLOUD else set()
        lookups[mapping.id] = (
            resources_by_backend_id(mapping, backend_ids),
            resources_by_vo(mapping, {record_vo(records[i]) for i in indexes} - {""}),
        )
    placed: list[_Placed] = []
    unmatched: list[tuple] = []
    for record in records:
        site, service = _site_service(fmt, record)
        key, month, measured = _key_and_month(fmt, record)
        mapping = mappings.get((site, service))
        vo = record_vo(record)
        if mapping is None:
            unmatched.append((record, key, month, vo, f"No {fmt.kind} mapping for site {site!r}, service {service!r}."))
            continue
        if month is None:
            reason = "The record gives no time to place it in a month (RecordCreateTime, EndTime or StartTime)."
            unmatched.append((record, key, month, vo, reason))
            continue
        by_backend_id, by_vo = lookups[mapping.id]
        candidates = by_backend_id.get(record.get("LocalGroupId") or "") or by_vo.get(vo) or []
        if len(candidates) != 1:
            what = "several resources" if candidates else "no resource"
            unmatched.append((record, key, month, vo, f"VO {vo!r} names {what} of offering {mapping.offering.name!r}."))
            continue
        fields = {rule["field"] for rule in mapping.components.values()} | ({"WallDuration"} if fmt is CLOUD else set())
        values = {f: str(record[f]) for f in fields if record.get(f) is not None}
        digest = _digest(fmt.name, site, service, key, month)
        username = _username(fmt, record)
        placed.append(_Placed(mapping, _short_key(key), month, candidates[0], username, measured, values, digest))
    return placed, unmatched


# -- storing the records -----------------------------------------------------------------------------


def _store(fmt: RecordFormat, placed: list[_Placed], now: datetime) -> set[tuple[int, date]]:
    """Insert or replace the records; (resource_id, month) of each that changed something."""
    latest: dict[tuple[int, str, date], _Placed] = {}
    for item in placed:
        ident = (item.mapping.id, item.key, item.month)
        earlier = latest.get(ident)
        if fmt is CLOUD and earlier is not None and item.measured_at < earlier.measured_at:
            continue
        latest[ident] = item
    if not latest:
        return set()
    stored = {
        (r.mapping_id, r.key, r.month): r
        for r in ApelRecord.objects.select_for_update()
        .filter(mapping_id__in={i[0] for i in latest}, format=fmt.name, key__in={i[1] for i in latest})
        .filter(month__in={i[2] for i in latest})
        .order_by("id")
    }
    new, changed, touched = [], [], set()
    for ident, item in latest.items():
        row = stored.get(ident)
        if row is None:
            new.append(_row(fmt, item, now))
        elif fmt is CLOUD and row.measured_at and item.measured_at < row.measured_at:
            continue
        elif (row.resource_id, row.username, row.values) != (item.resource_id, item.username, item.values):
            touched.add((row.resource_id, row.month))
            row.resource_id, row.username, row.values = item.resource_id, item.username, item.values
            row.measured_at, row.received_at = item.measured_at, now
            changed.append(row)
        else:
            continue
        touched.add((item.resource_id, item.month))
    ApelRecord.objects.bulk_create(new)
    ApelRecord.objects.bulk_update(changed, ["resource", "username", "values", "measured_at", "received_at"])
    if fmt is CLOUD:
        touched |= _following_months({(i[0], i[1]) for i in latest}, min(i[2] for i in latest))
    return touched


def _row(fmt: RecordFormat, item: _Placed, now: datetime) -> ApelRecord:
    return ApelRecord(
        mapping=item.mapping,
        format=fmt.name,
        key=item.key,
        month=item.month,
        resource_id=item.resource_id,
        username=item.username,
        measured_at=item.measured_at,
        values=item.values,
        received_at=now,
    )


def _following_months(vms: set[tuple[int, str]], after: date) -> set[tuple[int, date]]:
    """The later months of these VMs: their usage is measured from the months just changed."""
    rows = ApelRecord.objects.filter(
        format=CLOUD.name, mapping_id__in={m for m, _ in vms}, key__in={k for _, k in vms}, month__gt=after
    )
    return {(r, m) for mapping_id, key, r, m in rows.values_list("mapping_id", "key", "resource_id", "month")
            if (mapping_id, key) in vms}  # fmt: skip


# -- the months' usage ------------------------------------------------------------------------------


def _recompute(touched: set[tuple[int, date]]) -> list[UsageReport]:
    """The usage rows of each touched resource and month, computed from all their stored records.

    Job records and summaries are summed by the database, per resource, month, user and field (a
    month may hold many thousands of jobs); VM records, one per VM and month, are walked here.
    """
    if not touched:
        return []
    in_months = ApelRecord.objects.filter(resource_id__in={t[0] for t in touched}, month__in={t[1] for t in touched})
    amounts: dict[tuple[int, date, str, str], Decimal] = defaultdict(Decimal)

    def add(resource_id: int, month: date, username: str, component: str, amount: Decimal) -> None:
        if (resource_id, month) not in touched:
            return
        amounts[(resource_id, month, component, "")] += amount
        if username:
            amounts[(resource_id, month, component, username)] += amount

    vms = list(in_months.filter(format=CLOUD.name).select_related("mapping"))
    previous = _previous_vm_records(vms)
    for row in vms:
        for component, apel_amount in _apel_amounts(row, previous.get((row.mapping_id, row.key, row.month))):
            add(row.resource_id, row.month, row.username, component, apel_amount / factor(row.mapping, component))
    for mapping, group in _summed(in_months.exclude(format=CLOUD.name)):
        for component, rule in mapping.components.items():
            if group[_alias(rule["field"])] is not None:
                amount = group[_alias(rule["field"])] / factor(mapping, component)
                add(group["resource_id"], group["month"], group["username"], component, amount)
    stored = _stored_keys(touched)
    context = Context(prec=60)
    return [
        UsageReport(
            resource_id=resource_id,
            component_type=component,
            billing_period=month,
            username=username,
            usage=min(amount.quantize(USAGE_PLACES, context=context), MAX_USAGE - USAGE_PLACES),
        )
        for (resource_id, month, component, username), amount in sorted(amounts.items())
        # A zero makes no new row: summaries must carry both durations, so APEL cannot tell a zero
        # from an absent one. A stored row does go down to zero.
        if amount or (resource_id, component, month, username) in stored
    ]


def _alias(field: str) -> str:
    return f"sum_{field}"


def _summed(records):
    """(mapping, {resource_id, month, username, sum_<field>…}) per group of the records, summed by the database."""
    mapping_ids = set(records.values_list("mapping_id", flat=True).distinct())
    mappings = ApelMapping.objects.in_bulk(mapping_ids)
    fields = {rule["field"] for m in mappings.values() for rule in m.components.values()}
    if not fields:
        return
    number = DecimalField(max_digits=40, decimal_places=10)
    sums = {_alias(f): Sum(Cast(KeyTextTransform(f, "values"), number)) for f in sorted(fields)}
    groups = records.order_by().values("mapping_id", "resource_id", "month", "username").annotate(**sums)
    for group in groups:
        yield mappings[group["mapping_id"]], group


def _stored_keys(touched: set[tuple[int, date]]) -> set[tuple]:
    rows = ComponentUsage.objects.filter(
        resource_id__in={t[0] for t in touched}, billing_period__in={t[1] for t in touched}
    ).values_list("resource_id", "component_type", "billing_period", "username")
    return set(rows)


def _previous_vm_records(rows: list[ApelRecord]) -> dict[tuple[int, str, date], ApelRecord]:
    """For each VM record, the same VM's record of the latest earlier month (if any)."""
    if not rows:
        return {}
    earlier = ApelRecord.objects.filter(
        format=CLOUD.name,
        mapping_id__in={r.mapping_id for r in rows},
        key__in={r.key for r in rows},
        month__lt=max(r.month for r in rows),
    ).order_by("month")
    history: dict[tuple[int, str], list[ApelRecord]] = defaultdict(list)
    for row in earlier:
        history[(row.mapping_id, row.key)].append(row)
    found = {}
    for row in rows:
        before = [h for h in history.get((row.mapping_id, row.key), []) if h.month < row.month]
        if before:
            found[(row.mapping_id, row.key, row.month)] = before[-1]
    return found


def _apel_amounts(row: ApelRecord, previous: ApelRecord | None):
    """(component, amount in APEL units) for each mapped field the record carries."""
    values = {f: Decimal(v) for f, v in row.values.items()}
    before = {f: Decimal(v) for f, v in previous.values.items()} if previous else {}
    for component, rule in row.mapping.components.items():
        field = rule["field"]
        if field not in values:
            continue
        if row.format != CLOUD.name:
            yield component, values[field]
        elif CLOUD_FIELDS[field]:
            yield component, _growth(values[field], before.get(field))
        else:
            hours = _growth(values.get("WallDuration", Decimal(0)), before.get("WallDuration")) / 3600
            yield component, values[field] * hours


def _growth(now: Decimal, before: Decimal | None) -> Decimal:
    """A cumulative counter's growth; a counter that went down started again (a rebuilt VM)."""
    if before is None or now < before:
        return now
    return now - before


# -- records that match nothing --------------------------------------------------------------------------


def _unmatched_store(fmt: RecordFormat, unmatched: list[tuple], provider, now: datetime) -> None:
    """Keep each unmatched record once (by its identity); a resend counts it again and refreshes the reason."""
    if not unmatched:
        return
    rows = {}
    for record, key, month, vo, reason in unmatched:
        site, service = _site_service(fmt, record)
        digest = _digest(fmt.name, site, service, key, month)
        rows[digest] = UnmatchedApelRecord(
            digest=digest,
            provider=provider,
            format=fmt.name,
            site_name=site[:255],
            service=service[:255],
            vo=vo[:255],
            reason=reason[:500],
            record=format_record(fmt, record),
            first_received_at=now,
            last_received_at=now,
        )
    existing = set(UnmatchedApelRecord.objects.filter(digest__in=rows).values_list("digest", flat=True))
    UnmatchedApelRecord.objects.filter(digest__in=existing).update(
        times_received=F("times_received") + 1, last_received_at=now
    )
    UnmatchedApelRecord.objects.bulk_create([row for digest, row in rows.items() if digest not in existing])
