"""APEL exchange: the export of a million usage rows, and the import of a thousand messages of 100 job records.

Fills a fresh PostgreSQL database with two mapped HPC offerings (two providers): `small` holds a
tenth of --rows usage rows, `big` the rest, in one month; each resource has a whole-resource row
and four users' rows of two components (cpu, wall_hours), so 10 rows a resource and 5 records out.
Then, each in a fresh process so that its peak RSS is its own:

  * exports the month as APEL job summaries into an SSM outgoing queue (`apel_export`): once for
    the small provider only (a tenth of the rows) and once for all of them; a streamed export
    peaks the same at both. Each case runs twice: plain (time, records/s, peak RSS over the RSS
    before: Linux's VmHWM, reset through /proc/self/clear_refs) and under tracemalloc (peak of
    Python allocations);
  * imports --messages messages of 100 individual job records each (as `apel_import` does, one
    message at a time), into a third mapped offering: records/s and peak RSS; then 20 more under
    tracemalloc for the peak of Python allocations of one message.

    .venv/bin/python bench/apel.py [--rows 1000000] [--messages 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from measure import bench_environment, load_text, reset_peak_rss, status_kb  # noqa: E402  (bench/ is on sys.path as the script's directory)

DB_NAME = "federation_bench_apel"
EXPORT_MONTH = date(2026, 1, 1)
IMPORT_DAY = datetime(2026, 2, 10, tzinfo=UTC)
USERS = 4
COMPONENTS = ("cpu", "wall_hours")
IMPORT_RESOURCES = 1000
RECORDS_PER_MESSAGE = 100


def _environment() -> None:
    bench_environment(DB_NAME, prefix="apel")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--child", nargs=2, metavar=("MODE", "ARG"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    _environment()
    if args.child:
        return _child(*args.child)

    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", DB_NAME], check=True)
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", DB_NAME], check=True)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    resources = max(2, args.rows // (len(COMPONENTS) * (USERS + 1)))
    _fill(resources)
    seconds = time.perf_counter() - started
    print(f"filled {resources * len(COMPONENTS) * (USERS + 1):,} usage rows ({resources:,} resources, "
          f"{len(COMPONENTS)} components, a total and {USERS} users each) in {seconds:.0f} s")  # fmt: skip
    load_before = os.getloadavg()
    exports = [("a tenth of the rows (one provider)", _run_child("export", "bench-small")),
               ("all the rows", _run_child("export", "all"))]  # fmt: skip
    imported = _run_child("import", str(args.messages))
    load_after = os.getloadavg()
    print(f"load average (1, 5, 15 min) before: {load_text(load_before)}; after: {load_text(load_after)}; "
          f"cores: {os.cpu_count()}")  # fmt: skip
    print(f"{'export':<36}{'rows in':>11}{'records':>10}{'messages':>10}{'s':>8}{'records/s':>11}"
          f"{'peak RSS +MB':>14}{'traced peak MB':>16}")  # fmt: skip
    for label, result in exports:
        print(
            f"{label:<36}{result['rows']:>11,}{result['records']:>10,}{result['messages']:>10,}"
            f"{result['seconds']:>8.1f}{result['records'] / result['seconds']:>11,.0f}"
            f"{result['rss_mb']:>14.1f}{result['traced_mb']:>16.1f}"
        )
    print(f"{'import':<36}{'messages':>11}{'records':>10}{'s':>8}{'records/s':>11}{'peak RSS +MB':>14}"
          f"{'traced peak MB (one message)':>30}")  # fmt: skip
    result = imported
    print(
        f"{'job records, 100 a message':<36}{result['messages']:>11,}{result['records']:>10,}{result['seconds']:>8.1f}"
        f"{result['records'] / result['seconds']:>11,.0f}{result['rss_mb']:>14.1f}{result['traced_mb']:>30.2f}"
    )
    return 0


def _run_child(mode: str, arg: str) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--child", mode, arg], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def _site(slug: str, site_name: str):
    from decimal import Decimal

    from apel.models import ApelMapping
    from apel.services import mapping_save
    from tests.factories import OfferingComponentFactory, make_provider

    site = make_provider(slug)
    OfferingComponentFactory(offering=site.offering, type="wall_hours", billing_type="usage", limit_period="")
    mapping_save(
        mapping=ApelMapping(
            offering=site.offering,
            kind="hpc",
            site_name=site_name,
            service=f"ce.{slug}.example.org",
            benchmark_type="HEPscore23",
            benchmark_value=Decimal("10"),
            components={
                c: {"field": f, "factor": "3600"}
                for c, f in zip(COMPONENTS, ("CpuDuration", "WallDuration"), strict=True)
            },
        )
    )
    return site


def _resources(site, count: int, prefix: str) -> None:
    from federation.models import Project
    from marketplace.models import Resource

    customer = site.offering.customer
    projects = Project.objects.bulk_create(
        Project(customer=customer, name=f"{prefix} {i:07d}", slug=f"{prefix}-{i:07d}", backend_id=f"vo.{prefix}{i}")
        for i in range(count)
    )
    Resource.objects.bulk_create(
        Resource(name=f"{prefix} {i}", slug=f"{prefix}-{i:07d}", offering=site.offering, project=p, state="OK")
        for i, p in enumerate(projects)
    )


def _fill(resources: int) -> None:
    from django.db import connection, transaction

    from accounting.models import ComponentUsage
    from marketplace.models import Resource

    with transaction.atomic():
        small, big = _site("bench-small", "BENCH-SMALL"), _site("bench-big", "BENCH-BIG")
        _resources(small, max(1, resources // 10), "s")
        _resources(big, resources - max(1, resources // 10), "b")
        _resources(_site("bench-import", "BENCH-IMPORT"), IMPORT_RESOURCES, "i")
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO {ComponentUsage._meta.db_table} (uuid, resource_id, component_type, billing_period,
                    username, usage, decreased, description, reported_at, created, modified)
                SELECT gen_random_uuid(), r.id, c.type, %s::date, u.name,
                       CASE WHEN u.name = '' THEN 100 ELSE round((random() * 20)::numeric, 4) END,
                       false, '', now(), now(), now()
                FROM {Resource._meta.db_table} r, unnest(%s::text[]) AS c(type), unnest(%s::text[]) AS u(name)
                WHERE r.slug NOT LIKE 'i-%%'
                """,  # noqa: S608  (constant names only)
                [EXPORT_MONTH, list(COMPONENTS), [""] + [f"user{k}" for k in range(USERS)]],
            )
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {ComponentUsage._meta.db_table}")


def _job_messages(count: int, first: int) -> list[str]:
    from apel.messages import JOB

    start = int(IMPORT_DAY.timestamp())
    messages = []
    for m in range(first, first + count):
        records = []
        for r in range(RECORDS_PER_MESSAGE):
            n = m * RECORDS_PER_MESSAGE + r
            records.append(
                f"Site: BENCH-IMPORT\nSubmitHost: ce.bench-import.example.org\nLocalJobId: {n}\n"
                f"LocalUserId: user{n % USERS}\nVO: vo.i{n % IMPORT_RESOURCES}\nWallDuration: 3600\n"
                f"CpuDuration: {3600 + n % 7200}\nStartTime: {start}\nEndTime: {start + 3600}\n"
                "ServiceLevelType: HEPscore23\nServiceLevel: 10\n%%\n"
            )
        messages.append(JOB.header + "\n" + "".join(records))
    return messages


def _child(mode: str, arg: str) -> int:
    import django

    django.setup()
    return _export(arg) if mode == "export" else _import(int(arg))


def _export(which: str) -> int:
    from accounting.models import ComponentUsage
    from apel.services import apel_export
    from providers.models import Provider

    provider = None if which == "all" else Provider.objects.get(slug=which)
    rows = ComponentUsage.objects.filter(billing_period=EXPORT_MONTH)
    if provider is not None:
        rows = rows.filter(resource__offering__provider_link__provider=provider)
    out = Path(tempfile.mkdtemp(prefix="bench-apel-out-"))
    rss_before = reset_peak_rss()
    started = time.perf_counter()
    result = apel_export(month=EXPORT_MONTH, out=out / "plain", provider=provider)
    seconds = time.perf_counter() - started
    rss_after = status_kb("VmHWM")
    tracemalloc.start()
    apel_export(month=EXPORT_MONTH, out=out / "traced", provider=provider)
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    shutil.rmtree(out)
    print(json.dumps({"rows": rows.count(), "records": result.records, "messages": result.messages,
                      "seconds": seconds, "rss_mb": (rss_after - rss_before) / 1024,
                      "traced_mb": traced_peak / 1e6}))  # fmt: skip
    return 0


def _import(count: int) -> int:
    from apel.services import apel_message_import

    messages = _job_messages(count, 0)
    rss_before = reset_peak_rss()
    started = time.perf_counter()
    records = sum(apel_message_import(text=text).matched for text in messages)
    seconds = time.perf_counter() - started
    rss_after = status_kb("VmHWM")
    more = _job_messages(20, count)
    tracemalloc.start()
    peak = 0
    for text in more:
        tracemalloc.reset_peak()
        apel_message_import(text=text)
        peak = max(peak, tracemalloc.get_traced_memory()[1])
    tracemalloc.stop()
    print(json.dumps({"messages": count, "records": records, "seconds": seconds,
                      "rss_mb": (rss_after - rss_before) / 1024, "traced_mb": peak / 1e6}))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
