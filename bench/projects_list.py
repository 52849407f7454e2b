"""How much the projects list costs over the SQL it runs, in-process and through gunicorn over HTTP.

Fills a benchmark database with --projects projects (once; later runs reuse it and add what is
missing), then measures, interleaved in one run, the median time of each case

  * GET /api/projects/?page_size=10, ?page_size=200 and ?name=glacier&page_size=50, as a staff user
    with a token, through the whole Django stack in-process (middleware, authentication,
    filtering, pagination, serialization, JSON rendering),
  * the same URLs through gunicorn (one sync worker, as production runs it) over HTTP on 127.0.0.1,
  * the bare SQL that reads the same page and the same exact count, through a raw cursor,

and prints each beside its bare SQL with the ratio, and the load average while it ran.
Targets: in-process and HTTP within 2x of the bare SQL for 200 rows and the name filter; the
10-row page through gunicorn under 12 ms; the name filter under 20 ms.

    .venv/bin/python bench/projects_list.py [--projects 100000] [--runs 30] [--warmup 5] [--profile]
    .venv/bin/python bench/projects_list.py --projects 1000000   # a million projects

DATABASE_URL selects the database (default postgres://postgres@127.0.0.1:5432/federation_bench,
or federation_bench_<N> for another --projects); it is created and migrated when missing.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import http.client
import os
import pstats
import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/federation_bench"
PROJECTS = 100_000
CUSTOMERS = 8
NAME_WORD = "glacier"

# Each case: the URL, and the bare SQL that reads the same page and its exact count.
PAGE_COLUMNS = """
    p.id, p.uuid, p.customer_id, p.name, p.slug, p.description, p.end_date, p.backend_id,
    p.oecd_fos_2007_code, p.is_active, p.created,
    c.id, c.uuid, c.name, c.slug, c.native_name, c.abbreviation, c.contact_details, c.email,
    c.phone_number, c.backend_id, c.created
"""
# Django's icontains on PostgreSQL: UPPER(column::text) LIKE UPPER(pattern).
NAME_WHERE = f"WHERE UPPER(p.name::text) LIKE UPPER('%%{NAME_WORD}%%')"


def case(url: str, page_size: int, where: str = "") -> dict:
    return {
        "url": url,
        "count_sql": f"SELECT count(*) FROM federation_project p {where}",
        "page_sql": f"""
            SELECT {PAGE_COLUMNS}
            FROM federation_project p INNER JOIN federation_customer c ON c.id = p.customer_id
            {where}
            ORDER BY p.name ASC, p.id ASC
            LIMIT {page_size}
        """,
    }


CASES = {
    "page of 10": case("/api/projects/?page_size=10", 10),
    "page of 200": case("/api/projects/?page_size=200", 200),
    f"name={NAME_WORD}, 50": case(f"/api/projects/?name={NAME_WORD}&page_size=50", 50, NAME_WHERE),
}

WORDS = [
    *("climate", "ocean", "genome", "protein", "galaxy", "plasma", "lattice", "neural", "seismic", "quantum"),
    *("fluid", "aerosol", "glacier", "enzyme", "cortex", "isotope", "photon", "polymer", "reservoir", "soil"),
    *("turbine", "vaccine", "wildfire"),
]


def configure_environment(projects: int) -> None:
    default = DEFAULT_DATABASE_URL if projects == PROJECTS else f"{DEFAULT_DATABASE_URL}_{projects}"
    os.environ.setdefault("DATABASE_URL", default)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key-" + "x" * 40)
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost")
    os.environ.setdefault("LOG_LEVEL", "WARNING")


def ensure_database(url: str) -> None:
    """CREATE DATABASE when it does not exist yet (PostgreSQL only)."""
    parsed = urlparse(url)
    if not parsed.scheme.startswith("postgres"):
        return
    import psycopg
    from psycopg import sql

    name = parsed.path.lstrip("/")
    admin_url = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")


def fill(projects: int) -> None:
    """`projects` projects across a few customers; adds only what is missing."""
    from django.db import transaction

    from federation.models import Customer, Project

    have = Project.objects.count()
    if have >= projects:
        print(f"database already holds {have} projects")
        return
    started = time.perf_counter()
    rng = random.Random(42)  # noqa: S311  (reproducible names, not secrets)
    with transaction.atomic():
        customers = []
        for i in range(CUSTOMERS):
            customer, _ = Customer.objects.get_or_create(
                slug=f"bench-{i}",
                defaults={"name": f"Benchmark University {i}", "abbreviation": f"BU{i}", "email": f"it@bu{i}.org"},
            )
            customers.append(customer)
        start = have
        batch = []
        for i in range(start, projects):
            name = f"{rng.choice(WORDS).title()} {rng.choice(WORDS)} {i:06d}"
            batch.append(
                Project(
                    customer=customers[i % CUSTOMERS],
                    name=name,
                    slug=f"bench-{i:06d}",
                    description=f"Benchmark project {i} about {rng.choice(WORDS)}.",
                    backend_id=f"bench-{i:06d}",
                    oecd_fos_2007_code=rng.choice(["1.1", "1.3", "1.6", "2.2", "3.1", ""]),
                )
            )
            if len(batch) == 10_000:
                Project.objects.bulk_create(batch)
                batch = []
                print(f"  {i + 1 - start:,} of {projects - start:,} projects written", end="\r", flush=True)
        Project.objects.bulk_create(batch)
    print(f"\nfilled {projects - have} projects in {time.perf_counter() - started:.1f} s")


def staff_token() -> str:
    from federation import services
    from federation.models import User

    staff, _ = User.objects.get_or_create(username="bench-staff", defaults={"is_staff": True})
    return services.token_issue(user=staff)


def medians_ms(funcs, *, runs: int, warmup: int) -> list[float]:
    """Median wall time of each function in ms; runs are interleaved so load changes hit all alike."""
    for _ in range(warmup):
        for func in funcs:
            func()
    times: list[list[float]] = [[] for _ in funcs]
    for _ in range(runs):
        for func, bucket in zip(funcs, times, strict=True):
            started = time.perf_counter()
            func()
            bucket.append(time.perf_counter() - started)
    return [statistics.median(bucket) * 1000 for bucket in times]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def gunicorn():
    """One sync gunicorn worker on a free port, as production serves the API; yields its port."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            "1",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env={**os.environ, "ALLOWED_HOSTS": "testserver,localhost,127.0.0.1"},
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("gunicorn did not start")
            time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def http_get(port: int, url: str, token: str) -> bytes:
    """One request on a new connection, as a client of a sync worker makes it (no keep-alive there)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", url, headers={"Authorization": f"Token {token}", "Host": "localhost"})
        response = conn.getresponse()
        body = response.read()
        assert response.status == 200, (url, response.status, body[:200])
        return body
    finally:
        conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--projects", type=int, default=PROJECTS)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--no-http", action="store_true", help="skip the gunicorn cases")
    parser.add_argument("--profile", action="store_true", help="also profile the endpoint and print the top entries")
    args = parser.parse_args()

    configure_environment(args.projects)
    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from federation.models import Project

    call_command("migrate", verbosity=0)
    fill(args.projects)
    with connection.cursor() as cursor:  # as autovacuum leaves them: statistics and visibility map current
        cursor.execute("VACUUM ANALYZE federation_project")
        cursor.execute("VACUUM ANALYZE federation_customer")
    token = staff_token()
    client = Client(HTTP_AUTHORIZATION=f"Token {token}")

    def in_process(url):
        def run():
            response = client.get(url)
            assert response.status_code == 200, response.status_code
            return response

        return run

    def bare_sql(spec):
        def run():
            with connection.cursor() as cursor:
                cursor.execute(spec["count_sql"])
                cursor.fetchone()
                cursor.execute(spec["page_sql"])
                return cursor.fetchall()

        return run

    # Each page the endpoint serves is the page its SQL reads, with the same count.
    for name, spec in CASES.items():
        response = in_process(spec["url"])()
        rows = bare_sql(spec)()
        assert [p["uuid"] for p in response.json()] == [str(row[1]) for row in rows], name
        spec["count"] = response["X-Result-Count"]

    funcs = []
    for spec in CASES.values():
        funcs += [in_process(spec["url"]), bare_sql(spec)]
    with contextlib.ExitStack() as stack:
        if not args.no_http:
            port = stack.enter_context(gunicorn())
            for spec in CASES.values():
                funcs.append(lambda url=spec["url"]: http_get(port, url, token))
        load_before = os.getloadavg()
        medians = medians_ms(funcs, runs=args.runs, warmup=args.warmup)
        load_after = os.getloadavg()

    total = Project.objects.count()
    print(f"projects: {total:,}; as staff with a token; median of {args.runs} interleaved runs, {args.warmup} warm-up")
    print(f"load average (1, 5, 15 min) before: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}")
    print(f"                            after:  {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")
    http_medians = medians[2 * len(CASES) :]
    for i, (name, spec) in enumerate(CASES.items()):
        api_ms, sql_ms = medians[2 * i], medians[2 * i + 1]
        print(f"{name}: GET {spec['url']} (X-Result-Count {spec['count']})")
        print(f"  bare SQL (count + page):  {sql_ms:8.2f} ms")
        print(f"  in-process Django stack:  {api_ms:8.2f} ms   ratio {api_ms / sql_ms:5.2f}")
        if http_medians:
            print(f"  gunicorn over HTTP:       {http_medians[i]:8.2f} ms   ratio {http_medians[i] / sql_ms:5.2f}")

    if args.profile:
        url = CASES["page of 10"]["url"]
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(200):
            in_process(url)()
        profiler.disable()
        print(f"profile of 200 requests to {url}:")
        pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(40)
    return 0


if __name__ == "__main__":
    sys.exit(main())
