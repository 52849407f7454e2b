"""Memory of the streaming usage export: peak RSS and Python allocations while a million rows go out as CSV.

Fills a fresh PostgreSQL database with --rows whole-resource usage rows (one resource per project,
two components, 20 months: rows / 40 projects), then, each in a fresh process so that its peak
RSS is its own, writes the usage report grouped by project (`accounting.reports.report_rows`, one
output row per project, month and component, so as many rows out as in) as CSV through a
`StreamingHttpResponse`, reading the response's chunks as a WSGI server would and dropping them:

  * streaming two of the months (a tenth of the rows) and all twenty: a bounded export peaks the
    same at both;
  * for contrast, two months only, the same CSV built whole in memory first.

Each case runs twice: once plain (time, rows/s, and the peak RSS over the RSS before the export:
Linux's VmHWM, reset through /proc/self/clear_refs before it) and once under tracemalloc (peak of
Python allocations during the export).

    .venv/bin/python bench/usage_export.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
import tracemalloc
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from measure import bench_environment, load_text, reset_peak_rss, status_kb  # noqa: E402  (bench/ is on sys.path as the script's directory)

DB_NAME = "federation_bench_export"
MONTHS = 20
COMPONENTS = ("cpu", "gpu")
FIRST_MONTH = date(2024, 1, 1)


def _environment() -> None:
    bench_environment(DB_NAME, prefix="export")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--child", nargs=2, metavar=("MODE", "MONTHS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    _environment()
    if args.child:
        return _child(args.child[0], int(args.child[1]))

    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", DB_NAME], check=True)
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", DB_NAME], check=True)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    projects = max(1, args.rows // (MONTHS * len(COMPONENTS)))
    started = time.perf_counter()
    _fill(projects)
    print(f"filled {projects * MONTHS * len(COMPONENTS):,} usage rows ({projects:,} projects and resources, "
          f"{len(COMPONENTS)} components, {MONTHS} months) in {time.perf_counter() - started:.0f} s")  # fmt: skip
    cases = [("stream", 2), ("stream", MONTHS), ("whole", 2)]
    load_before = os.getloadavg()
    results = [_run_child(mode, count) for mode, count in cases]
    load_after = os.getloadavg()
    print(f"load average (1, 5, 15 min) before: {load_text(load_before)}; after: {load_text(load_after)}; "
          f"cores: {os.cpu_count()}")  # fmt: skip
    print(f"{'case':<28}{'rows out':>11}{'MB out':>9}{'s':>8}{'rows/s':>10}{'peak RSS +MB':>14}{'traced peak MB':>16}")
    for (mode, months), result in zip(cases, results, strict=True):
        label = f"{'streamed' if mode == 'stream' else 'built whole, then sent'}, {months} months"
        print(
            f"{label:<28}{result['rows']:>11,}{result['bytes'] / 1e6:>9.1f}{result['seconds']:>8.1f}"
            f"{result['rows'] / result['seconds']:>10,.0f}{result['rss_mb']:>14.1f}{result['traced_mb']:>16.1f}"
        )
    return 0


def _run_child(mode: str, months: int) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(months)], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def _fill(projects: int) -> None:
    from django.db import connection, transaction

    from accounting.models import ComponentUsage
    from federation.models import Project
    from marketplace.models import Resource
    from tests.factories import CustomerFactory, OfferingComponentFactory, agent_offering

    with transaction.atomic():
        customer = CustomerFactory(name="Bench university")
        offering = agent_offering(customer=customer, name="Bench HPC", component={"limit_period": "month"})
        OfferingComponentFactory(offering=offering, type="gpu", name="GPU", billing_type="usage", limit_period="")
        made = Project.objects.bulk_create(
            Project(customer=customer, name=f"Project {i:07d}", slug=f"p{i:07d}") for i in range(projects)
        )
        Resource.objects.bulk_create(
            Resource(
                name=f"alloc {i}",
                slug=f"a{i:07d}",
                offering=offering,
                project=project,
                state="OK",
                limits={"cpu": 1000},
            )  # fmt: skip
            for i, project in enumerate(made)
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO {ComponentUsage._meta.db_table} (uuid, resource_id, component_type, billing_period,
                    username, usage, decreased, description, reported_at, created, modified)
                SELECT gen_random_uuid(), r.id, c.type, (%s::date + make_interval(months => m))::date, '',
                       round((random() * 1000)::numeric, 4), false, '', now(), now(), now()
                FROM {Resource._meta.db_table} r, unnest(%s::text[]) AS c(type), generate_series(0, %s) AS m
                """,  # noqa: S608  (constant names only)
                [FIRST_MONTH, list(COMPONENTS), MONTHS - 1],
            )
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {ComponentUsage._meta.db_table}")


class _Line:
    """A file-like object whose write returns the line, for csv.writer in a generator."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(rows, columns):
    writer = csv.writer(_Line())
    yield writer.writerow(columns)
    for row in rows:
        yield writer.writerow(["" if row[column] is None else row[column] for column in columns])


def _child(mode: str, months: int) -> int:
    import django

    django.setup()
    from django.http import StreamingHttpResponse

    from accounting.periods import add_months
    from accounting.reports import COLUMNS, ReportParams, report_rows
    from federation.models import User

    staff, _ = User.objects.get_or_create(username="bench-staff", defaults={"is_staff": True})
    params = ReportParams("project", FIRST_MONTH, add_months(FIRST_MONTH, months - 1), "csv")

    def export():
        lines = _csv_lines(report_rows(user=staff, params=params), COLUMNS)
        if mode == "whole":
            lines = iter(["".join(lines)])
        response = StreamingHttpResponse(lines, content_type="text/csv")
        sent = rows = 0
        for chunk in response.streaming_content:
            sent += len(chunk)
            rows += chunk.count(b"\n")
        return rows - 1, sent

    rss_before = reset_peak_rss()
    started = time.perf_counter()
    rows, sent = export()
    seconds = time.perf_counter() - started
    rss_after = status_kb("VmHWM")
    tracemalloc.start()
    export()
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(
        json.dumps(
            {
                "rows": rows,
                "bytes": sent,
                "seconds": seconds,
                "rss_mb": (rss_after - rss_before) / 1024,
                "traced_mb": traced_peak / 1e6,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
