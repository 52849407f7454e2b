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

It then EXPLAINs (ANALYZE) the exact count each text filter of the list runs (name, description,
customer_name, abbreviation), and stops with an error when the name or description filter is not
answered by its trigram index. --parts measures what each part of a request costs (the token
look-up, from the database and from the shared cache; the exact count; middleware; serializing;
rendering); --profile prints a cProfile of the 10-row page.

    .venv/bin/python bench/projects_list.py [--projects 100000] [--runs 30] [--warmup 5] [--parts] [--profile]
    .venv/bin/python bench/projects_list.py --projects 1000000   # a million projects

DATABASE_URL selects the database (default postgres://postgres@127.0.0.1:5432/federation_bench,
or federation_bench_<N> for another --projects); it is created and migrated when missing, and
filled by the server itself (INSERT ... SELECT over generate_series, 100,000 rows a transaction,
with progress). CACHE_URL=redis://... measures with the token cache on, as production runs
(TOKEN_CACHE_SECONDS defaults to 60 with it); without it every request looks its token up.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import http.client
import os
import pstats
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


# One INSERT ... SELECT over generate_series per chunk: the server builds the rows (a million in
# minutes, not the hour the ORM takes), and each chunk commits so progress shows and survives.
FILL_CHUNK = 100_000
FILL_SQL = """
    INSERT INTO federation_project
        (uuid, customer_id, name, slug, description, end_date, backend_id, oecd_fos_2007_code, is_active, created)
    SELECT gen_random_uuid(), (%(customers)s::bigint[])[1 + i %% %(n_customers)s],
           initcap(w[1 + h.a %% %(n_words)s]) || ' ' || w[1 + h.b %% %(n_words)s] || ' ' || n.num,
           'bench-' || n.num, 'Benchmark project ' || i || ' about ' || w[1 + h.c %% %(n_words)s] || '.',
           NULL, 'bench-' || n.num, (%(codes)s::text[])[1 + h.d %% 6], true, now()
    FROM generate_series(%(first)s::int, %(last)s::int) AS i,
         LATERAL (SELECT lpad(i::text, greatest(6, length(i::text)), '0') AS num) AS n,
         LATERAL (SELECT hashint4(i)::bigint & 65535 AS a, hashint4(i + 7919)::bigint & 65535 AS b,
                         hashint4(i + 15013)::bigint & 65535 AS c, hashint4(i + 30011)::bigint & 65535 AS d) AS h,
         (SELECT %(words)s::text[] AS w) AS words
"""


def fill(projects: int) -> None:
    """`projects` projects across a few customers, built by the server in chunks; adds only what is missing."""
    from django.db import connection

    from federation.models import Customer, Project

    have = Project.objects.count()
    if have >= projects:
        print(f"database already holds {have:,} projects")
        return
    started = time.perf_counter()
    customers = [
        Customer.objects.get_or_create(
            slug=f"bench-{i}",
            defaults={"name": f"Benchmark University {i}", "abbreviation": f"BU{i}", "email": f"it@bu{i}.org"},
        )[0].id
        for i in range(CUSTOMERS)
    ]
    params = {
        "customers": customers,
        "n_customers": len(customers),
        "words": WORDS,
        "n_words": len(WORDS),
        "codes": ["1.1", "1.3", "1.6", "2.2", "3.1", ""],
    }
    for first in range(have, projects, FILL_CHUNK):
        last = min(first + FILL_CHUNK, projects) - 1
        with connection.cursor() as cursor:  # autocommit: each chunk is its own transaction
            cursor.execute(FILL_SQL, {**params, "first": first, "last": last})
        elapsed = time.perf_counter() - started
        print(f"  {last + 1 - have:,} of {projects - have:,} projects written ({elapsed:.0f} s)", flush=True)
    print(f"filled {projects - have:,} projects in {time.perf_counter() - started:.1f} s")


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


# The text filters of the list, each with a word the benchmark rows hold; the count query the endpoint
# runs for each is explained: it reads every match, so it shows whether an index finds them.
TEXT_FILTERS = {
    "name": f"name={NAME_WORD}",
    "description": f"description={NAME_WORD}",
    "customer_name": "customer_name=University 3",
    "abbreviation": "abbreviation=BU3",
}
TRIGRAM_INDEXED = {"name": "federation_project_name_trgm", "description": "federation_project_description_trgm"}


def explain_text_filters(client) -> None:
    """EXPLAIN ANALYZE of the exact count each text filter's page runs, as the endpoint sends it."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for name, query in TEXT_FILTERS.items():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/api/projects/?{query}&page_size=50")
        assert response.status_code == 200, response.status_code
        count_sql = next(q["sql"] for q in queries if q["sql"].startswith("SELECT COUNT(*)"))
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) " + count_sql)
            plan = [row[0] for row in cursor.fetchall()]
        scans = [line.strip().lstrip("-> ") for line in plan if "Scan" in line or "Execution" in line]
        print(f"  {query} (X-Result-Count {response['X-Result-Count']}): " + "; ".join(scans))
        if name in TRIGRAM_INDEXED and TRIGRAM_INDEXED[name] not in "\n".join(plan):
            raise SystemExit(f"the {name} filter does not use {TRIGRAM_INDEXED[name]}:\n" + "\n".join(plan))


def fixed_cost_parts(url: str, token: str, *, runs: int) -> None:
    """What each part of a request to `url` costs, in-process: the median of the whole request less the
    median of the same request without that part (interleaved), and rendering and serializing timed alone."""
    from django.conf import settings
    from django.core.paginator import Paginator
    from django.test import Client, override_settings
    from rest_framework.renderers import JSONRenderer

    from federation.api.authentication import HashedTokenAuthentication
    from federation.api.serializers import ProjectSerializer
    from federation.models import AuthToken, Project
    from federation.models.tokens import hash_token_key

    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    with override_settings(MIDDLEWARE=[]):
        bare_client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    held = AuthToken.objects.select_related("user").get(key_hash=hash_token_key(token))
    authenticate, count = HashedTokenAuthentication.authenticate, Paginator.count

    def without(part):
        def run():
            if part == "token authentication":
                HashedTokenAuthentication.authenticate = lambda self, request: (held.user, held)
            elif part == "exact count query":
                Paginator.count = property(lambda self: 100)  # noqa: ARG005
            try:
                response = (bare_client if part == "middleware" else client).get(url)
            finally:
                HashedTokenAuthentication.authenticate, Paginator.count = authenticate, count
            assert response.status_code == 200, response.status_code

        return run

    parts = ["token authentication", "exact count query", "middleware"]
    medians = medians_ms([without(None)] + [without(part) for part in parts], runs=runs, warmup=5)
    print(f"  whole request, in-process:      {medians[0]:7.2f} ms")
    for part, median in zip(parts, medians[1:], strict=True):
        print(f"  {part + ':':31s} {medians[0] - median:7.2f} ms")
    page_size = int(url.rsplit("page_size=", 1)[1])
    rows = list(Project.objects.select_related("customer")[:page_size])
    request = client.get(url).wsgi_request
    data = ProjectSerializer(rows, many=True, context={"request": request}).data
    serialize, render = medians_ms(
        [
            lambda: ProjectSerializer(rows, many=True, context={"request": request}).data,
            lambda: JSONRenderer().render(data),
        ],
        runs=runs,
        warmup=5,
    )
    print(f"  serializing {page_size} rows:{'':{15 - len(str(page_size))}} {serialize:7.2f} ms")
    print(f"  rendering them to JSON:         {render:7.2f} ms")
    authenticated = client.get(url).wsgi_request
    lookups = {"database": 0}
    if settings.CACHE_URL:
        lookups["shared cache"] = settings.TOKEN_CACHE_SECONDS or 60

    def look_up(seconds):
        def run():
            with override_settings(TOKEN_CACHE_SECONDS=seconds):
                HashedTokenAuthentication().authenticate(authenticated)

        return run

    alone = medians_ms([look_up(seconds) for seconds in lookups.values()], runs=runs * 5, warmup=5)
    found = "; ".join(f"{median:.2f} ms from the {where}" for where, median in zip(lookups, alone, strict=True))
    print(f"  the token look-up alone:        {found}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--projects", type=int, default=PROJECTS)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--no-http", action="store_true", help="skip the gunicorn cases")
    parser.add_argument("--profile", action="store_true", help="also profile the endpoint and print the top entries")
    parser.add_argument("--parts", action="store_true", help="also measure what each part of a request costs")
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

    from django.conf import settings

    total = Project.objects.count()
    print(f"projects: {total:,}; as staff with a token; median of {args.runs} interleaved runs, {args.warmup} warm-up")
    print(
        f"token cache: {settings.TOKEN_CACHE_SECONDS} s in {settings.CACHES['default']['BACKEND'].rsplit('.', 1)[1]}"
        + (f" ({settings.CACHE_URL})" if settings.CACHE_URL else "")
    )
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

    print("plans of the exact counts of the text filters:")
    explain_text_filters(client)
    if args.parts:
        for spec in (CASES["page of 10"], CASES["page of 200"]):
            print(f"what each part of GET {spec['url']} costs (median of {args.runs}):")
            fixed_cost_parts(spec["url"], token, runs=args.runs)
            print(f"  load average now: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
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
