"""Orchestrator → Celery worker → site agent with the slurm backend → a real Slurm cluster, and back.

Uses the single-node test cluster of scripts/slurm-cluster.sh (started by the `slurm_cluster`
fixture, which fails under CI when Slurm cannot run rather than skipping).
"""

import time
import uuid
from datetime import date

import pytest

from providers.client import ProviderClient
from providers.models import OutboxMessage
from site_agent.backends.slurm_runner import parse_tres
from tests.slurm import (
    USERS,
    account_row,
    assoc_rows,
    pending_reason,
    remove_accounts,
    sacct_cpu_minutes,
    sbatch,
    slurm,
    snapshot,
    wait_until,
)

from .harness import wait_for
from .stack import build_slurm_stack, build_stack, slurm_backend, slurm_prefixes, stop_stack

pytestmark = [pytest.mark.e2e, pytest.mark.slurm, pytest.mark.django_db(transaction=True)]

MEMBER = USERS[1]
BACKEND = slurm_backend("e")


@pytest.fixture
def stack(slurm_cluster, live_server, tmp_path):
    stack = build_slurm_stack(live_server, tmp_path, BACKEND, MEMBER)
    yield stack
    stop_stack(stack)
    # Terminating leaves the customer's and project's accounts (the site's own hierarchy); the shared
    # cluster is left as the test found it.
    remove_accounts(BACKEND["allocation_prefix"], slurm_prefixes(BACKEND))


def _redelivery_changes_nothing(stack, order_uuid: str) -> None:
    """Send the order's exact payload to the agent again, signed as the relay does; Slurm stays as it was."""
    before = snapshot()
    payload = OutboxMessage.objects.get(order_uuid=order_uuid).payload
    answer = ProviderClient(stack.provider).submit_orders(str(uuid.uuid4()), [payload])
    assert answer["items"][0]["accepted"] is True
    time.sleep(1.5)  # time enough for the agent to act, if it (wrongly) would
    assert snapshot() == before


def _job_done(job_id: str) -> bool:
    out = slurm("sacct", "-X", "-n", "-P", "-j", job_id, "--format=State", check=False).stdout.split()
    return bool(out) and out[0] in {"COMPLETED", "FAILED", "TIMEOUT", "CANCELLED"}


def test_order_to_slurm_account_usage_limits_and_termination(stack):
    order = stack.order("genomics", cpu=1, component="cpu_k_hours")
    stack.approve(order["uuid"])
    done = stack.wait_final([order["uuid"]])[order["uuid"]]
    assert done.state == "done", done.error_message
    resource = stack.resource(order["uuid"])
    account = resource.backend_id
    assert resource.state == "OK" and account.startswith("ea_genomics")

    # The allocation account holds the ordered limit (1 k CPU-hour = 60 000 CPU-minutes) and the member.
    assert parse_tres(account_row(account)[4]) == {"cpu": 60000}
    assert wait_until(lambda: MEMBER in {row[2] for row in assoc_rows(account)}, timeout=10), assoc_rows(account)
    _redelivery_changes_nothing(stack, order["uuid"])

    # The member's job runs under the account...
    submitted = sbatch(MEMBER, account, seconds=2)
    assert submitted.returncode == 0, submitted.stderr
    job = submitted.stdout.strip().split(";")[0]
    assert wait_until(lambda: _job_done(job), timeout=60), pending_reason(job)
    month = date.today().replace(day=1)
    assert wait_until(lambda: sacct_cpu_minutes(account, month, state="COMPLETED"), timeout=30)
    expected = sum(sacct_cpu_minutes(account, month).values()) / 60000

    # ...and the usage pulled into the orchestrator comes to what sacct says of the finished job (a pull
    # made while the job ran may have stored less first: the pulls that follow bring it up).
    def pulled():
        rows = stack.api("GET", f"/api/marketplace-component-usages/?resource_uuid={resource.uuid}").json()
        return rows if rows and float(rows[0]["usage"]) == pytest.approx(expected, rel=1e-3) else None

    rows = wait_for(pulled, timeout=60, message=f"the pulled usage to reach sacct's {expected} k-hours")
    assert rows[0]["type"] == "cpu_k_hours"

    # update_limits changes GrpTRESMins.
    answer = stack.api("POST", f"/api/marketplace-resources/{resource.uuid}/update_limits/",
                       json={"limits": {"cpu_k_hours": 2}})  # fmt: skip
    assert answer.status_code == 200, answer.text
    stack.approve(answer.json()["order_uuid"])
    assert stack.wait_final([answer.json()["order_uuid"]])[answer.json()["order_uuid"]].state == "done"
    assert parse_tres(account_row(account)[4]) == {"cpu": 120000}
    raise_to_two = answer.json()["order_uuid"]

    # A limit below what was used: the next job waits with AssocGrpCPUMinutesLimit.
    answer = stack.api("POST", f"/api/marketplace-resources/{resource.uuid}/update_limits/",
                       json={"limits": {"cpu_k_hours": 0}})  # fmt: skip
    stack.approve(answer.json()["order_uuid"])
    assert stack.wait_final([answer.json()["order_uuid"]])[answer.json()["order_uuid"]].state == "done"
    submitted = sbatch(MEMBER, account, seconds=1)
    assert submitted.returncode == 0, submitted.stderr
    job = submitted.stdout.strip().split(";")[0]
    assert wait_until(lambda: "AssocGrpCPUMinutesLimit" in pending_reason(job), timeout=20), pending_reason(job)
    # The earlier update arriving again must not bring back its old limit.
    _redelivery_changes_nothing(stack, raise_to_two)
    assert parse_tres(account_row(account)[4]) == {"cpu": 0}

    # Terminate removes the account (cancelling the waiting job); the member's next sbatch is refused.
    answer = stack.api("POST", f"/api/marketplace-resources/{resource.uuid}/terminate/")
    assert answer.status_code == 200, answer.text
    stack.approve(answer.json()["order_uuid"])
    assert stack.wait_final([answer.json()["order_uuid"]])[answer.json()["order_uuid"]].state == "done"
    resource.refresh_from_db()
    assert resource.state == "Terminated"
    assert account_row(account) is None
    refused = sbatch(MEMBER, account, seconds=1)
    assert refused.returncode != 0 and "Invalid account" in refused.stderr
    _redelivery_changes_nothing(stack, answer.json()["order_uuid"])
    assert account_row(account) is None


def test_sacctmgr_failure_errs_the_order_with_slurms_message(slurm_cluster, live_server, tmp_path):
    """A component mapped to a TRES this cluster does not have: sacctmgr refuses, the order is erred with its words."""
    backend = {**BACKEND, "components": {"gpu_hours": {"tres": "gres/nosuchgpu", "unit_factor": 60}}}
    stack = build_stack(live_server, tmp_path, component="gpu_hours", backend_name="slurm", backend=backend)
    try:
        order = stack.order("no-gpus-here", cpu=5, component="gpu_hours")
        stack.approve(order["uuid"])
        erred = stack.wait_final([order["uuid"]])[order["uuid"]]
        assert erred.state == "erred"
        assert "no TRES known by type gres/nosuchgpu" in erred.error_message
        assert stack.resource(order["uuid"]).state == "Erred"
    finally:
        stop_stack(stack)
        remove_accounts(BACKEND["allocation_prefix"], slurm_prefixes(BACKEND))  # the customer and project made
