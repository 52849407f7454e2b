"""How much the API costs over the SQL it runs: GET /api/projects/?page_size=200 with 100,000 projects.

Fills a benchmark database (once; later runs reuse it), then measures the median time of

  * the endpoint, as a staff user with a token, through the whole Django stack in-process
    (middleware, authentication, filtering, pagination, serialization, JSON rendering), and
  * the bare SQL that reads the same page and the count, through a raw cursor,

and prints both medians and their ratio. The target is a ratio under 3.

    .venv/bin/python bench/projects_list.py [--runs 30] [--warmup 5] [--profile]

DATABASE_URL selects the database (default postgres://postgres@127.0.0.1:5432/federation_bench);
it is created and migrated when missing.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/federation_bench"
PROJECTS = 100_000
CUSTOMERS = 8
PAGE_SIZE = 200
URL = f"/api/projects/?page_size={PAGE_SIZE}"

# The same page, read by hand: what the endpoint needs from the database and nothing more.
COUNT_SQL = "SELECT count(*) FROM federation_project"
PAGE_SQL = f"""
    SELECT p.id, p.uuid, p.customer_id, p.name, p.slug, p.description, p.end_date, p.backend_id,
           p.oecd_fos_2007_code, p.is_active, p.created,
           c.id, c.uuid, c.name, c.slug, c.native_name, c.abbreviation, c.contact_details, c.email,
           c.phone_number, c.backend_id, c.created
    FROM federation_project p
    INNER JOIN federation_customer c ON c.id = p.customer_id
    ORDER BY p.name ASC, p.id ASC
    LIMIT {PAGE_SIZE}
"""

WORDS = [
    *("climate", "ocean", "genome", "protein", "galaxy", "plasma", "lattice", "neural", "seismic", "quantum"),
    *("fluid", "aerosol", "glacier", "enzyme", "cortex", "isotope", "photon", "polymer", "reservoir", "soil"),
    *("turbine", "vaccine", "wildfire"),
]


def configure_environment() -> None:
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "federation.settings")
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


def fill() -> None:
    """100,000 projects across a few customers; does nothing when they are already there."""
    from django.db import transaction

    from federation.models import Customer, Project

    have = Project.objects.count()
    if have >= PROJECTS:
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
        for i in range(start, PROJECTS):
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
        Project.objects.bulk_create(batch)
    with __import__("django.db", fromlist=["connection"]).connection.cursor() as cursor:
        cursor.execute("ANALYZE federation_project")
        cursor.execute("ANALYZE federation_customer")
    print(f"filled {PROJECTS - have} projects in {time.perf_counter() - started:.1f} s")


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="also profile the endpoint and print the top entries")
    args = parser.parse_args()

    configure_environment()
    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    call_command("migrate", verbosity=0)
    fill()

    client = Client(HTTP_AUTHORIZATION=f"Token {staff_token()}")

    def endpoint():
        response = client.get(URL)
        assert response.status_code == 200, response.status_code
        assert len(response.content) > 0
        return response

    def bare_sql():
        with connection.cursor() as cursor:
            cursor.execute(COUNT_SQL)
            cursor.fetchone()
            cursor.execute(PAGE_SQL)
            return cursor.fetchall()

    # The page the endpoint serves is the page the SQL reads.
    first = endpoint()
    assert [p["uuid"] for p in first.json()] == [str(row[1]) for row in bare_sql()]
    total = first["X-Result-Count"]

    api_ms, sql_ms = medians_ms([endpoint, bare_sql], runs=args.runs, warmup=args.warmup)
    print(f"projects: {total}; GET {URL} as staff; median of {args.runs} interleaved runs after {args.warmup} warm-up")
    print(f"  endpoint (full Django stack): {api_ms:8.2f} ms")
    print(f"  bare SQL (count + page):      {sql_ms:8.2f} ms")
    print(f"  ratio:                        {api_ms / sql_ms:8.2f}  (target < 3)")

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(10):
            endpoint()
        profiler.disable()
        pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
