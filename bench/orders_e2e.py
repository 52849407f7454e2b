"""Orders per second and approval-to-done latency through the real web server, worker and agent.

Starts gunicorn, a Celery worker (with beat) and a site agent on 127.0.0.1 against a fresh
PostgreSQL database and Redis, creates N orders waiting for the provider, approves them all as
fast as the service allows, and waits until every one is done. Prints orders/s and p50/p95 of
(completed_at - approval time).

    .venv/bin/python bench/orders_e2e.py [--orders 1000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DB_NAME = "federation_bench_orders"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--web-workers", type=int, default=2)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-orders-"))
    env = {
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/12",
        "CACHE_URL": "redis://127.0.0.1:6379/13",
        "SECRET_KEY": "bench-secret-key-bench-secret-key-bench-secret-key-0123456789",
        "DEBUG": "0",
        "SECURE_SSL_REDIRECT": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "FEDERATION_VAR_DIR": str(tmp),
        "LOG_LEVEL": "WARNING",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "PROVIDER_DELIVER_INTERVAL": "2",
        "PROVIDER_USAGE_INTERVAL": "3600",
        "PROVIDER_VERIFY_INTERVAL": "3600",
        "PROVIDER_MANIFEST_INTERVAL": "3600",
    }
    os.environ.update(env)
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", DB_NAME], check=True)
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", DB_NAME], check=True)
    import redis

    for db in (12, 13):
        redis.Redis(host="127.0.0.1", port=6379, db=db).flushdb()

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from tests.providers.harness import Agent, free_port, wait_for

    web_port = free_port()
    url = f"http://127.0.0.1:{web_port}"
    procs = []
    logs = {name: (tmp / f"{name}.log").open("wb") for name in ("web", "worker")}
    try:
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "config.wsgi",
                    "-b",
                    f"127.0.0.1:{web_port}",
                    "-w",
                    str(args.web_workers),
                    "--threads",
                    "4",
                    "--log-level",
                    "warning",
                ],
                cwd=ROOT,
                stdout=logs["web"],
                stderr=subprocess.STDOUT,
            )
        )
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "-B",
                    "--loglevel",
                    "WARNING",
                    "--concurrency",
                    "2",
                    "-s",
                    str(tmp / "beat"),
                ],
                cwd=ROOT,
                stdout=logs["worker"],
                stderr=subprocess.STDOUT,
            )
        )
        agent = Agent(tmp, orchestrator_url=url, provider_id="bench")
        stack = _setup(agent, args.orders)
        agent.start()
        procs.append(agent.process)
        wait_for(lambda: _answers(url), timeout=30, message="gunicorn")
        return _run(stack, args.orders)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def _answers(url):
    import requests

    try:
        return requests.get(url + "/.well-known/jwks.json", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def _setup(agent, count):
    from federation.models import Role, RoleGrant, RoleName
    from marketplace import services as marketplace
    from tests.factories import (
        CustomerFactory,
        ProjectFactory,
        ProviderFactory,
        ProviderOfferingFactory,
        UserFactory,
        agent_offering,
    )

    org = CustomerFactory(name="Bench site")
    owner = UserFactory(username="bench-owner")
    RoleGrant.objects.create(user=owner, role=Role.objects.get(name=RoleName.CUSTOMER_OWNER), customer=org)
    project = ProjectFactory(name="Bench project")
    manager = UserFactory(username="bench-pm")
    RoleGrant.objects.create(user=manager, role=Role.objects.get(name=RoleName.PROJECT_MANAGER), project=project)
    offering = agent_offering(customer=org, name="Bench HPC", component={"min_value": 1, "max_value": 10**6})
    plan = offering.plans.get()
    provider = ProviderFactory(
        slug="bench", name="Bench", domain=f"127.0.0.1:{agent.port}", customer=org, jwks=agent.jwks()
    )
    ProviderOfferingFactory(offering=offering, provider=provider)
    orders = [
        marketplace.order_create(
            actor=manager,
            project=project,
            offering=offering,
            plan=plan,
            attributes={"name": f"bench-{i}"},
            limits={"cpu": 10},
        )
        for i in range(count)
    ]
    assert {o.state for o in orders} == {"pending-provider"}, {o.state for o in orders}
    return {"orders": orders, "owner": owner}


def _run(stack, count) -> int:
    from django.db import connection, transaction

    from marketplace import services as marketplace
    from marketplace.models import Order

    # "At once": every approval commits in one transaction, so the relay sees all of them together.
    started = time.time()
    with transaction.atomic():
        for order in stack["orders"]:
            marketplace.order_approve_by_provider(order=order, actor=stack["owner"])
    start = time.time()
    approvals_took = start - started
    approved_at = {order.uuid: start for order in stack["orders"]}
    deadline = time.time() + 600
    while time.time() < deadline:
        pending = Order.objects.filter(uuid__in=approved_at).exclude(state__in=["done", "erred"]).count()
        if not pending:
            break
        time.sleep(0.2)
        connection.close()
    finished = dict(Order.objects.filter(uuid__in=approved_at).values_list("uuid", "completed_at"))
    states = dict(Order.objects.filter(uuid__in=approved_at).values_list("uuid", "state"))
    done = [u for u, s in states.items() if s == "done"]
    latencies = sorted(finished[u].timestamp() - approved_at[u] for u in done if finished[u])
    if not latencies:
        print("no order reached done")
        return 1
    last = max(finished[u].timestamp() for u in done)
    print(f"orders approved:        {count} (approving took {approvals_took:.2f} s)")
    print(f"orders done:            {len(done)}; erred: {sum(1 for s in states.values() if s == 'erred')}")
    print(f"throughput:             {len(done) / (last - start):.1f} orders/s (commit of the approvals to last done)")
    print(f"approval→done p50:      {statistics.median(latencies):.3f} s")
    print(f"approval→done p95:      {latencies[int(0.95 * (len(latencies) - 1))]:.3f} s")
    return 0 if len(done) == count else 1


if __name__ == "__main__":
    raise SystemExit(main())
