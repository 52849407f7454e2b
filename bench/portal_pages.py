"""Server time and queries of the portal's main pages over a large federation, as a researcher and as staff.

Fills its own PostgreSQL database (once; a later run with the same sizes reuses it) with --projects
projects in 100 organisations, one resource per project (most OK, some erred, some waiting for an
update), the orders that made them, a manager and a member on every project among 20,000 people,
and --usage-rows usage rows spread evenly over the resources (two components, the last months).
The researcher manages three projects and is a member of seven, in two organisations; the provider's
owner owns the organisation that provides every offering, so sees every order and resource through it.

Then renders each page through the Django test client (the whole stack in-process: middleware,
session, visibility, filters, templates) as the researcher, as staff and as the provider's owner, and
prints the median time per page over --runs runs (after --warmup), with the number of queries the page
asked. Target: every page under 100 ms.

    .venv/bin/python bench/portal_pages.py [--projects 100000] [--usage-rows 1000000] [--runs 15]
    .venv/bin/python bench/portal_pages.py --projects 2000 --usage-rows 20000   # a quick run

DATABASE_URL is set to postgres://postgres@127.0.0.1:5432/federation_bench_portal (with the sizes
appended when they are not the defaults); the database is created and migrated when missing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from measure import bench_environment  # noqa: E402  (bench/ is on sys.path as the script's directory)

DB_NAME = "federation_bench_portal"
PROJECTS, USAGE_ROWS = 100_000, 1_000_000
ORGANISATIONS, PEOPLE = 100, 20_000
BATCH = 10_000
COMPONENTS = ("cpu_k_hours", "gpu_hours")
MANAGES, MEMBER_OF = 3, 7
TARGET_MS = 100
VIEWERS = ("researcher", "staff", "provider")
# Pages a viewer may not open: the queues are staff's; the provider's owner sees the orders and resources
# of the consumers' projects, not the projects.
NOT_FOR = {"researcher": {"queues (staff only)"}, "provider": {"queues (staff only)", "project"}}


def _environment(projects: int, usage_rows: int) -> None:
    name = DB_NAME if (projects, usage_rows) == (PROJECTS, USAGE_ROWS) else f"{DB_NAME}_{projects}_{usage_rows}"
    bench_environment(name, prefix="portal", hosts="testserver,localhost")


def _ensure_database() -> None:
    import psycopg
    from psycopg import sql

    url = os.environ["DATABASE_URL"]
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")


def _progress(what: str, done: int, total: int, started: float) -> None:
    print(f"  {what}: {done:,} of {total:,} ({time.perf_counter() - started:.0f} s)", end="\r", flush=True)


def _bulk(model, rows, total: int, what: str) -> list:
    """bulk_create in batches of BATCH, printing progress; returns the created objects (with ids)."""
    started, made, batch = time.perf_counter(), [], []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            made += model.objects.bulk_create(batch)
            batch = []
            _progress(what, len(made), total, started)
    made += model.objects.bulk_create(batch)
    print(f"  {what}: {len(made):,} in {time.perf_counter() - started:.0f} s" + " " * 20)
    return made


def _filled(projects: int, usage_rows: int) -> bool:
    from accounting.models import ComponentUsage
    from federation.models import Project, User

    if not User.objects.filter(username="bench-researcher").exists():
        return False
    have = (Project.objects.count(), ComponentUsage.objects.count())
    if have == (projects, usage_rows):
        print(f"reusing the database: {projects:,} projects, {usage_rows:,} usage rows")
        return True
    raise SystemExit(f"the database holds {have} (projects, usage rows), not {(projects, usage_rows)}; drop it")


def _fill(projects: int, usage_rows: int) -> None:  # noqa: PLR0915  (one recipe, top to bottom)
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction
    from django.utils import timezone

    from accounting.models import ComponentUsage
    from federation.models import Customer, Project, Role, RoleGrant, RoleName, User
    from federation.models.roles import ensure_roles
    from marketplace.models import Order, OrderState, OrderType, Resource, ResourceState
    from tests.factories import catalogue_offering

    started = time.perf_counter()
    today = timezone.localdate()
    with transaction.atomic():
        ensure_roles()
        roles = {role.name: role for role in Role.objects.all()}
        organisations = _bulk(
            Customer,
            (
                Customer(name=f"University {i:03d}", slug=f"university-{i:03d}", abbreviation=f"U{i:03d}")
                for i in range(ORGANISATIONS)
            ),
            ORGANISATIONS,
            "organisations",
        )
        provider = Customer.objects.create(name="Nordic Supercomputing Centre", slug="nsc", abbreviation="NSC")
        offerings = [catalogue_offering(customer=provider, name=f"HPC allocation {i}") for i in range(10)]
        offering, plan = offerings[0], offerings[0].plans.get()
        password = make_password(None)
        people = _bulk(
            User,
            (
                User(username=f"person-{i:05d}", email=f"person-{i:05d}@example.org", password=password)
                for i in range(PEOPLE)
            ),
            PEOPLE,
            "people",
        )
        researcher = User.objects.create(
            username="bench-researcher", full_name="Rita Researcher", email="rita@example.org", password=password
        )
        User.objects.create(username="bench-staff", is_staff=True, password=password)
        made = _bulk(
            Project,
            (
                Project(
                    customer=organisations[i % ORGANISATIONS],
                    name=f"Project {i:06d}",
                    slug=f"project-{i:06d}",
                    end_date=today + timedelta(days=5 + i % 400) if i % 50 == 0 else None,
                )
                for i in range(projects)
            ),
            projects,
            "projects",
        )
        grants = (
            RoleGrant(user=people[(i * 2 + side) % PEOPLE], role=roles[name], project=project)
            for i, project in enumerate(made)
            for side, name in enumerate((RoleName.PROJECT_MANAGER, RoleName.PROJECT_MEMBER))
        )
        _bulk(RoleGrant, grants, 2 * projects, "role grants")
        mine = [made[i * ORGANISATIONS] for i in range(MANAGES)] + [
            made[i * ORGANISATIONS + 1] for i in range(MEMBER_OF)
        ]
        for index, project in enumerate(mine):
            name = RoleName.PROJECT_MANAGER if index < MANAGES else RoleName.PROJECT_MEMBER
            RoleGrant.objects.create(user=researcher, role=roles[name], project=project)

        def state(i):
            return ResourceState.ERRED if i % 97 == 0 else ResourceState.OK

        resources = _bulk(
            Resource,
            (
                Resource(
                    name=f"Allocation {i:06d}",
                    slug=f"allocation-{i:06d}",
                    offering=offering,
                    plan=plan,
                    project=project,
                    limits={"cpu_k_hours": 1000, "storage_tb": 2},
                    backend_id=f"acct-{i:06d}",
                    state=state(i),
                )
                for i, project in enumerate(made)
            ),
            projects,
            "resources",
        )
        now = timezone.now()
        orders = (
            Order(
                type=OrderType.CREATE,
                state=OrderState.ERRED if resource.state == ResourceState.ERRED else OrderState.DONE,
                offering=offering,
                plan=plan,
                project=resource.project,
                resource=resource,
                attributes={"name": resource.name},
                limits=resource.limits,
                created_by=people[(i * 2) % PEOPLE],
                completed_at=now,
            )
            for i, resource in enumerate(resources)
        )
        _bulk(Order, orders, projects, "create orders")
        my_ids = {project.id for project in mine}
        waiting = [
            r
            for i, r in enumerate(resources)
            if r.state == ResourceState.OK and (i % 53 == 0 or r.project_id in my_ids)
        ]
        updates = (
            Order(
                type=OrderType.UPDATE,
                state=OrderState.PENDING_CONSUMER,
                offering=offering,
                plan=plan,
                project=resource.project,
                resource=resource,
                limits={"cpu_k_hours": 2000, "storage_tb": 2},
            )
            for resource in waiting
        )
        _bulk(Order, updates, len(waiting), "update orders waiting for review")
        _usage(connection, ComponentUsage, Resource, usage_rows, len(resources), today)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"filled in {time.perf_counter() - started:.0f} s")


def _usage(connection, usage_model, resource_model, usage_rows: int, resources: int, today) -> None:
    """`usage_rows` rows: each resource gets the same number of months of both components (the last months
    back from this one), written by INSERT … SELECT in slices of resources; rows past `usage_rows` (months
    rounded up) are dropped from the last resources."""
    months = max(1, -(-usage_rows // (resources * len(COMPONENTS))))
    table, resource_table = usage_model._meta.db_table, resource_model._meta.db_table
    started, written = time.perf_counter(), 0
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT min(id), max(id) FROM {resource_table}")  # noqa: S608  (constant names only)
        low, high = cursor.fetchone()
        step = max(1, 10 * BATCH // (months * len(COMPONENTS)))
        for start in range(low, high + 1, step):
            cursor.execute(
                f"""
                INSERT INTO {table} (uuid, resource_id, component_type, billing_period, username, usage,
                    decreased, description, reported_at, created, modified)
                SELECT gen_random_uuid(), r.id, c.type,
                       (date_trunc('month', %s::date) - make_interval(months => m))::date, '',
                       round((random() * 100)::numeric, 4), false, '', now(), now(), now()
                FROM {resource_table} r, unnest(%s::text[]) AS c(type), generate_series(0, %s) AS m
                WHERE r.id >= %s AND r.id < %s
                """,  # noqa: S608  (constant names only)
                [today, list(COMPONENTS), months - 1, start, start + step],
            )
            written += cursor.rowcount
            _progress("usage rows", written, usage_rows, started)
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608
        extra = cursor.fetchone()[0] - usage_rows
        if extra > 0:  # more than asked (months rounded up): drop the oldest rows of the last resources
            cursor.execute(
                f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table} ORDER BY resource_id DESC, "  # noqa: S608
                "billing_period ASC LIMIT %s)",
                [extra],
            )
    print(f"  usage rows: {usage_rows:,} in {time.perf_counter() - started:.0f} s" + " " * 20)


def _pages(researcher) -> dict[str, str]:
    """The main pages, each on an object the researcher sees (so staff sees the same one)."""
    from federation.models import Project, RoleName
    from marketplace.models import Order, OrderState, Resource

    project = (
        Project.objects.visible_to(researcher)
        .filter(id__in=researcher.role_grants.filter(role__name=RoleName.PROJECT_MANAGER).values("project_id"))
        .order_by("id")
        .first()
        or Project.objects.visible_to(researcher).order_by("id").first()
    )
    resource = Resource.objects.filter(project=project).order_by("id").first()
    order = (
        Order.objects.filter(resource=resource, state=OrderState.PENDING_CONSUMER).first()
        or Order.objects.filter(resource=resource).first()
    )
    return {
        "dashboard": "/",
        "catalogue": "/catalogue/",
        "offering": f"/catalogue/{resource.offering.uuid}/",
        "resources": "/resources/",
        "resources, page 3 by name": "/resources/?o=name&page=3",
        "resources, name search": "/resources/?name=allocation+0001",
        "resource": f"/resources/{resource.uuid}/",
        "orders": "/orders/",
        "orders, waiting": "/orders/?state=pending-consumer",
        "orders, text search": "/orders/?query=allocation+0001",
        "order": f"/orders/{order.uuid}/",
        "project": f"/projects/{project.uuid}/",
        "queues (staff only)": "/queues/",
    }


def _provider_owner():
    """The owner of the organisation providing every offering (made here when missing, so that a database
    filled before this viewer existed serves as well)."""
    from federation.models import Customer, Role, RoleGrant, RoleName, User

    user, _ = User.objects.get_or_create(username="bench-provider-owner", defaults={"full_name": "Per Provider"})
    role = Role.objects.get(name=RoleName.CUSTOMER_OWNER)
    RoleGrant.objects.get_or_create(user=user, role=role, customer=Customer.objects.get(slug="nsc"))
    return user


def _measure(client, url: str, *, runs: int, warmup: int) -> tuple[float, int]:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    def get():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)

    for _ in range(warmup):
        get()
    reset_queries()  # each request clears the log as it starts: the capture must start from an empty one
    with CaptureQueriesContext(connection) as queries:
        get()
    count = len(queries)  # now: the next request clears the log the capture reads
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        get()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000, count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--projects", type=int, default=PROJECTS)
    parser.add_argument("--usage-rows", type=int, default=USAGE_ROWS)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    if args.projects < ORGANISATIONS * (MEMBER_OF + 1):
        parser.error(f"--projects must be at least {ORGANISATIONS * (MEMBER_OF + 1)}")
    _environment(args.projects, args.usage_rows)
    _ensure_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from federation.models import User

    call_command("migrate", verbosity=0)
    if not _filled(args.projects, args.usage_rows):
        _fill(args.projects, args.usage_rows)
    researcher = User.objects.get(username="bench-researcher")
    staff = User.objects.get(username="bench-staff")
    pages = _pages(researcher)
    clients = {}
    for who, user in zip(VIEWERS, (researcher, staff, _provider_owner()), strict=True):
        clients[who] = Client()
        clients[who].force_login(user)
    load_before = os.getloadavg()
    results = {
        (name, who): _measure(client, url, runs=args.runs, warmup=args.warmup)
        for name, url in pages.items()
        for who, client in clients.items()
        if name not in NOT_FOR.get(who, ())
    }
    load_after = os.getloadavg()
    print(
        f"{args.projects:,} projects, {args.usage_rows:,} usage rows; median of {args.runs} runs after "
        f"{args.warmup} warm-up; load average before {load_before[0]:.2f}, after {load_after[0]:.2f}; "
        f"cores: {os.cpu_count()}"
    )
    print(f"{'page':<28}" + "".join(f"{who + ' ms':>15}{'queries':>9}" for who in VIEWERS))
    slow = []
    for name in pages:
        cells = []
        for who in VIEWERS:
            if (name, who) not in results:
                cells.append(f"{'—':>15}{'':>9}")
                continue
            ms, queries = results[(name, who)]
            cells.append(f"{ms:>15.1f}{queries:>9}")
            slow += [f"{name} ({who})"] if ms >= TARGET_MS else []
        print(f"{name:<28}{''.join(cells)}")
    print(f"over {TARGET_MS} ms: {', '.join(slow) if slow else 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
