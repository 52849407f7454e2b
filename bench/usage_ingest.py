"""Usage records per second through the signed provider API, against the bare SQL upsert of the same rows.

Starts gunicorn (sync workers, as production serves the API) on 127.0.0.1 against a fresh
PostgreSQL database, registers a provider with its signing key, and creates the resources the
records name (per resource two components x 50 rows: the whole resource and 49 users, this month).
Then, in one run:

  * API: the records are pushed in batches of --batch to POST /api/provider/usage/ from --clients
    threads, each request signed with the provider's key by the site agent's own client; every
    answer is checked (each record accepted, `imported` equal to the batch);
  * bare SQL: the same rows, in batches of the same size from as many connections, each batch
    copied (COPY) into a temporary table and upserted with one INSERT ... ON CONFLICT DO UPDATE
    (flagging decreases) into a copy of the usage table with its indexes, unique key and foreign key
    to the resources (checked at commit, as the real table's is); the rows are prepared before the
    clock starts, and there are no events and no current usage. The ratio is taken against this.
    The same is then run into a copy without the foreign key, and printed beside it for reference.
    Before them, what the API wrote is vacuumed and analysed (autovacuum would do it during their
    clock); each is run three times, interleaved, and the median taken;
  * API again: the first tenth of the batches sent a second time, which must change nothing.

Prints records/s of each, the ratio, the latency per request and the load average while it ran.
Targets: >= 20,000 records/s through the API and a ratio <= 3.

As the machine may be shared, it also prints the CPU time each side spent per batch (the web
workers, their PostgreSQL backends and the sending threads; from /proc), and the rate that CPU
time allows on this machine's cores when nothing else runs: what the figures would be on an idle
machine, whatever else was running during the measurement.

    .venv/bin/python bench/usage_ingest.py [--records 100000] [--batch 500] [--web-workers 2] [--clients 2]
"""

from __future__ import annotations

import argparse
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from measure import load_text  # noqa: E402  (bench/ is on sys.path as the script's directory)

DB_NAME = "federation_bench_usage"
COMPONENTS = ("cpu", "gpu")
ROWS_PER_COMPONENT = 50  # the whole resource and 49 users
BARE_TABLE = "bench_usage_bare"
BARE_ROUNDS = 3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=2, help="threads sending batches at once (and SQL connections)")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-usage-"))
    os.environ.update(
        {
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
            "CELERY_BROKER_URL": os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/12"),
            "CACHE_URL": os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/13"),
            "SECRET_KEY": "bench-secret-key-bench-secret-key-bench-secret-key-0123456789",
            "DEBUG": "0",
            "SECURE_SSL_REDIRECT": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "FEDERATION_VAR_DIR": str(tmp),
            "LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "config.settings",
        }
    )
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", DB_NAME], check=True)
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", DB_NAME], check=True)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from tests.providers.harness import free_port, wait_for

    world = _setup(args.records)
    batches = [world["records"][i : i + args.batch] for i in range(0, len(world["records"]), args.batch)]
    port = free_port()
    log = (tmp / "web.log").open("wb")
    command = [sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}"]
    web = subprocess.Popen(
        [*command, "-w", str(args.web_workers), "--log-level", "warning"], cwd=ROOT, stdout=log, stderr=log
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(lambda: _answers(url), timeout=60, message="gunicorn")
        client = _client(world, url)
        for month in range(1, 2 * args.web_workers + 1):  # every worker loads its code, outside this month
            _post_checked(client, [{**world["records"][0], "billing_month": f"2000-{month:02}-01"}])
        load_before = os.getloadavg()
        cpu = _CPU(web.pid)
        api_seconds, latencies = _parallel(batches, args.clients, lambda: lambda batch: _post_checked(client, batch))
        api_cpu = cpu.spent()
        load_api = os.getloadavg()
        _check_stored(world)
        bare_rows = [[_bare_row(world, record) for record in batch] for batch in batches]
        _vacuum_written()
        checked, unchecked = [], []
        for _ in range(BARE_ROUNDS):  # interleaved; the median of each
            checked.append(_bare_run(bare_rows, args.clients, foreign_key=True))
            unchecked.append(_bare_run(bare_rows, args.clients, foreign_key=False))
        bare_seconds, bare_cpu = sorted(checked, key=lambda run: run[0])[BARE_ROUNDS // 2]
        unchecked_seconds = statistics.median(seconds for seconds, _ in unchecked)
        load_bare = os.getloadavg()
        resend = batches[: max(1, len(batches) // 10)]
        resend_seconds, _ = _parallel(resend, args.clients, lambda: lambda b: _post_checked(client, b, 0))
    finally:
        web.terminate()
        web.wait(timeout=30)

    records = len(world["records"])
    api_rate, bare_rate = records / api_seconds, records / bare_seconds
    resent = sum(len(batch) for batch in resend)
    print(f"records: {records:,} in {len(batches)} batches of {args.batch} ({len(world['resources'])} resources,")
    print(f"         {len(COMPONENTS)} components, the whole resource and {ROWS_PER_COMPONENT - 1} users each)")
    print(f"gunicorn sync workers: {args.web_workers}; client threads / SQL connections: {args.clients}; "
          f"cores: {os.cpu_count()}")  # fmt: skip
    print(f"load average (1, 5, 15 min) before: {load_text(load_before)}; after the API: {load_text(load_api)}; "
          f"after the bare SQL: {load_text(load_bare)}")  # fmt: skip
    print(f"API (signed POST /api/provider/usage/): {api_seconds:7.2f} s  {api_rate:9,.0f} records/s")
    print(f"    per request: p50 {_ms(statistics.median(latencies))} ms, p95 {_ms(_p95(latencies))} ms")
    print(f"bare SQL (COPY + INSERT ON CONFLICT):   {bare_seconds:7.2f} s  {bare_rate:9,.0f} records/s"
          f"  (median of {BARE_ROUNDS})")  # fmt: skip
    print(f"ratio API / bare SQL:                   {api_seconds / bare_seconds:7.2f}")
    print(f"    (bare SQL without the foreign key: {records / unchecked_seconds:,.0f} records/s, "
          f"ratio {api_seconds / unchecked_seconds:.2f})")  # fmt: skip
    print(f"sent again ({resent:,} records, nothing changes): {resent / resend_seconds:9,.0f} records/s")
    cores = os.cpu_count() or 1
    for name, spent in (("API", api_cpu), ("bare SQL", bare_cpu)):
        per_batch = {side: seconds / len(batches) for side, seconds in spent.items()}
        total = sum(per_batch.values())
        sides = ", ".join(f"{side} {_ms(seconds)}" for side, seconds in per_batch.items())
        print(f"CPU per batch, {name}: {_ms(total)} ms ({sides}); on {cores} idle cores at most "
              f"{cores / total * records / len(batches):,.0f} records/s")  # fmt: skip
    print("targets: >= 20,000 records/s through the API; ratio <= 3")
    return 0


def _setup(count: int) -> dict:
    from django.conf import settings

    from marketplace.models import Resource
    from tests.factories import (
        CustomerFactory,
        OfferingComponentFactory,
        ProjectFactory,
        ProviderFactory,
        ProviderOfferingFactory,
        SiteKeys,
        agent_offering,
    )

    keys = SiteKeys("bench-usage")
    org = CustomerFactory(name="Bench site")
    provider = ProviderFactory(slug=keys.slug, name="Bench site", customer=org, jwks=keys.jwks)
    offering = agent_offering(customer=org, name="Bench HPC", component={"max_value": 10**6})
    OfferingComponentFactory(offering=offering, type="gpu", name="GPU", billing_type="usage", limit_period="")
    ProviderOfferingFactory(offering=offering, provider=provider)
    project = ProjectFactory(name="Bench project")
    per_resource = len(COMPONENTS) * ROWS_PER_COMPONENT
    resources = Resource.objects.bulk_create(
        Resource(name=f"alloc-{i}", slug=f"alloc-{i}", offering=offering, project=project, state="OK")
        for i in range(-(-count // per_resource))
    )
    month = _this_month().isoformat()
    records = []
    for i, resource in enumerate(resources):
        for component in COMPONENTS:
            for j in range(ROWS_PER_COMPONENT):
                records.append(
                    {
                        "cursor": len(records) + 1,
                        "resource_uuid": str(resource.uuid),
                        "backend_id": f"acct-{i}",
                        "component_type": component,
                        "billing_month": month,
                        "amount": f"{(i * 7 + j) % 1000}.{j:02}",
                        "username": f"user-{j:03}" if j else "",
                    }
                )
    return {
        "keys": keys,
        "audience": settings.FEDERATION_ID,
        "resources": {str(r.uuid): r.id for r in resources},
        "records": records[:count],
    }


def _this_month():
    from django.utils import timezone

    return timezone.localdate().replace(day=1)


def _answers(url: str) -> bool:
    import requests

    try:
        return requests.get(url + "/.well-known/jwks.json", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def _client(world, url):
    from site_agent.orchestrator import OrchestratorClient

    keys = world["keys"]
    return OrchestratorClient(
        url=url, audience=world["audience"], provider_id=keys.slug, private_key=keys.key, kid=keys.kid, timeout=120
    )


def _post_checked(client, batch: list[dict], expect_imported: int | None = -1) -> None:
    """POST one batch; every record must be accepted, and `imported` be the batch (or `expect_imported`)."""
    from site_agent.orchestrator import USAGE_PATH

    answer = client.post(USAGE_PATH, {"records": batch})
    assert answer.status_code == 200, (answer.status_code, answer.text[:300])
    body = answer.json()
    refused = [result for result in body["results"] if not result["accepted"]]
    assert not refused, refused[:3]
    if expect_imported is not None:
        assert body["imported"] == (len(batch) if expect_imported == -1 else expect_imported), body["imported"]


def _parallel(batches: list, clients: int, make_worker) -> tuple[float, list[float]]:
    """Run `worker(batch)` over every batch from `clients` threads; (wall seconds, latency per batch)."""
    todo: queue.SimpleQueue = queue.SimpleQueue()
    for batch in batches:
        todo.put(batch)
    latencies: list[float] = []
    errors: list[BaseException] = []

    def run():
        worker = make_worker()
        while not errors:
            try:
                batch = todo.get_nowait()
            except queue.Empty:
                return
            started = time.perf_counter()
            try:
                worker(batch)
            except BaseException as exc:  # noqa: BLE001  (reported after the threads stop)
                errors.append(exc)
                return
            latencies.append(time.perf_counter() - started)

    threads = [threading.Thread(target=run) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    if errors:
        raise errors[0]
    return seconds, latencies


def _check_stored(world) -> None:
    from accounting.models import ComponentUsage
    from events.models import Event
    from marketplace.models import Resource

    count = len(world["records"])
    month = _this_month()
    stored = ComponentUsage.objects.filter(billing_period=month).count()
    assert stored == count, stored
    events = Event.objects.filter(event_type="marketplace_component_usage_reported", context__billing_period=str(month))
    totals = ComponentUsage.objects.filter(billing_period=month, username="").count()  # the resources' totals
    assert events.count() == totals, (events.count(), totals)
    refreshed = Resource.objects.filter(id__in=world["resources"].values()).exclude(current_usages={}).count()
    assert refreshed == len(world["resources"]), refreshed


def _bare_row(world, record: dict) -> tuple:
    return (
        world["resources"][record["resource_uuid"]],
        record["component_type"],
        record["billing_month"],
        record["username"],
        Decimal(record["amount"]),
    )


def _vacuum_written() -> None:
    """VACUUM ANALYZE what the API wrote, which autovacuum would otherwise do while the bare SQL is timed."""
    from django.db import connection

    from accounting.models import ComponentUsage
    from events.models import Event
    from marketplace.models import Resource

    with connection.cursor() as cursor:
        for model in (ComponentUsage, Event, Resource):
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")


def _bare_run(bare_rows: list, clients: int, *, foreign_key: bool) -> tuple[float, dict[str, float]]:
    """Upsert every batch into a fresh copy of the usage table; (wall seconds, CPU seconds per side)."""
    _bare_table(foreign_key=foreign_key)
    writers: list = []
    cpu = _CPU(None)
    seconds, _ = _parallel(bare_rows, clients, lambda: _bare_writer(writers))
    spent = cpu.spent()
    for conn in writers:
        conn.close()
    return seconds, spent


def _bare_table(*, foreign_key: bool) -> None:
    """A copy of the usage table: its columns, indexes and unique key, and (`foreign_key`) its foreign key
    to the resources, checked at commit as the real one is (CREATE TABLE ... LIKE copies no foreign key)."""
    from django.db import connection

    from accounting.models import ComponentUsage
    from marketplace.models import Resource

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {BARE_TABLE}")
        cursor.execute(f"CREATE TABLE {BARE_TABLE} (LIKE {ComponentUsage._meta.db_table} INCLUDING ALL)")
        if foreign_key:
            cursor.execute(
                f"ALTER TABLE {BARE_TABLE} ADD FOREIGN KEY (resource_id) REFERENCES {Resource._meta.db_table} (id)"
                " DEFERRABLE INITIALLY DEFERRED"
            )


BARE_UPSERT = f"""
    INSERT INTO {BARE_TABLE} (uuid, resource_id, component_type, billing_period, username, usage, decreased,
                              description, reported_at, created, modified)
    SELECT gen_random_uuid(), resource_id, component_type, billing_period, username, usage, false, '',
           now(), now(), now()
    FROM bench_usage_in
    ON CONFLICT (resource_id, component_type, billing_period, username) DO UPDATE SET
        previous_usage = {BARE_TABLE}.usage,
        decreased = EXCLUDED.usage < {BARE_TABLE}.usage,
        usage = EXCLUDED.usage,
        reported_at = EXCLUDED.reported_at,
        modified = EXCLUDED.modified
    WHERE {BARE_TABLE}.usage IS DISTINCT FROM EXCLUDED.usage
"""  # noqa: S608  (constant names only)


def _bare_writer(writers: list):
    """A connection of its own and its temporary table; returns the function that upserts one batch.

    The connection is added to `writers`, left open until its backend's CPU time has been read."""
    import psycopg

    conn = psycopg.connect(os.environ["DATABASE_URL"].replace("postgres://", "postgresql://"), autocommit=True)
    writers.append(conn)
    conn.execute(
        "CREATE TEMP TABLE bench_usage_in (resource_id bigint, component_type text, billing_period date,"
        " username text, usage numeric) ON COMMIT DELETE ROWS"
    )

    def write(rows: list[tuple]) -> None:
        with conn.transaction(), conn.cursor() as cursor:
            with cursor.copy("COPY bench_usage_in FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute(BARE_UPSERT)

    return write


class _CPU:
    """CPU seconds spent from now on by gunicorn's workers (children of `web_pid`), by the PostgreSQL
    backends of the bench database, and by this process (the threads that send)."""

    def __init__(self, web_pid: int | None):
        self.web_pid = web_pid
        self.start = self._read()

    def _read(self) -> dict[str, dict[int, float]]:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            backends = [pid for (pid,) in cursor.fetchall()]
        stats = {pid: stat for pid in _pids() if (stat := _stat(pid))}  # {pid: (CPU seconds, parent)}
        times = os.times()
        return {
            "web": {pid: cpu for pid, (cpu, parent) in stats.items() if self.web_pid and parent == self.web_pid},
            "PostgreSQL": {pid: stats[pid][0] for pid in backends if pid in stats},
            "client": {0: times.user + times.system},
        }

    def spent(self) -> dict[str, float]:
        """{side: CPU seconds since the start}; a process that started meanwhile counts from zero."""
        now = self._read()
        spent = {
            side: sum(seconds - self.start[side].get(pid, 0.0) for pid, seconds in pids.items())
            for side, pids in now.items()
        }
        return {side: seconds for side, seconds in spent.items() if self.web_pid or side != "web"}


def _pids() -> list[int]:
    return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]


def _stat(pid: int) -> tuple[float, int] | None:
    """(user + system CPU seconds, parent pid) of a process; None once it has gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), int(fields[1])


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def _p95(values: list[float]) -> float:
    return sorted(values)[int(0.95 * (len(values) - 1))]


if __name__ == "__main__":
    raise SystemExit(main())
