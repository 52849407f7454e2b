"""Pause and resume from the API to a real Slurm cluster: orchestrator → Celery worker → the site agent
process with the slurm backend → `GrpSubmitJobs` on the allocation's account.

ordered → a job runs → paused → the member's `sbatch` is refused → resumed → a job is accepted again.
"""

import logging
import time

import pytest

from providers import services
from providers.models import OutboxMessage
from tests.slurm import (
    GRP_SUBMIT_JOBS,
    USERS,
    account_row,
    assoc_rows,
    job_state,
    remove_accounts,
    sbatch,
    submitted_job_id,
    wait_until,
)

from .harness import wait_for
from .stack import build_slurm_stack, slurm_backend, slurm_prefixes, stop_stack

pytestmark = [pytest.mark.e2e, pytest.mark.slurm, pytest.mark.django_db(transaction=True)]

log = logging.getLogger(__name__)

MEMBER = USERS[1]
BACKEND = slurm_backend("p")


@pytest.fixture
def stack(slurm_cluster, live_server, tmp_path):
    stack = build_slurm_stack(live_server, tmp_path, BACKEND, MEMBER)
    yield stack
    stop_stack(stack)


def _ran(job_id: str) -> bool:
    return job_state(job_id) in {"RUNNING", "COMPLETED"}


def test_pause_stops_new_jobs_and_resume_lets_them_run(stack):
    order = stack.order("pausable", cpu=1, component="cpu_k_hours")
    stack.approve(order["uuid"])
    done = stack.wait_final([order["uuid"]])[order["uuid"]]
    assert done.state == "done", done.error_message
    resource = stack.resource(order["uuid"])
    account = resource.backend_id
    try:
        assert wait_until(lambda: MEMBER in {row[2] for row in assoc_rows(account)}, timeout=10), assoc_rows(account)
        first = submitted_job_id(sbatch(MEMBER, account, seconds=1))
        assert wait_until(lambda: _ran(first), timeout=60), job_state(first)

        # The site says it can pause (the slurm backend implements it).
        assert services.manifest_pull(provider=stack.provider)
        stack.provider.refresh_from_db()
        assert stack.provider.manifest["features"]["resources"] == {"pause": True}

        started = time.monotonic()
        paused = stack.api("POST", f"/api/marketplace-resources/{resource.uuid}/pause/",
                           token=stack.provider_owner_token, json={"reason": "e2e"})  # fmt: skip
        assert paused.status_code == 200, paused.text
        assert paused.json()["paused"] is True
        assert wait_until(lambda: account_row(account)[GRP_SUBMIT_JOBS] == "0", timeout=30), account_row(account)
        refused = sbatch(MEMBER, account, seconds=1)
        log.info("pause reached Slurm in %.2f s", time.monotonic() - started)
        assert refused.returncode != 0
        assert "AssocGrpSubmitJobsLimit" in refused.stderr or "policy" in refused.stderr, refused.stderr

        resumed = stack.api("POST", f"/api/marketplace-resources/{resource.uuid}/resume/",
                            token=stack.provider_owner_token)  # fmt: skip
        assert resumed.status_code == 200, resumed.text
        assert resumed.json()["paused"] is False
        assert wait_until(lambda: account_row(account)[GRP_SUBMIT_JOBS] == "", timeout=30), account_row(account)
        again = submitted_job_id(sbatch(MEMBER, account, seconds=1))
        assert wait_until(lambda: _ran(again), timeout=60), job_state(again)

        wait_for(
            lambda: OutboxMessage.objects.filter(kind="pause", state="delivered").count() == 2,
            timeout=30,
            message="both changes to be marked delivered",
        )
        # Resuming a running resource is refused, and changes nothing at the site.
        twice = stack.api("POST", f"/api/marketplace-resources/{resource.uuid}/resume/",
                          token=stack.provider_owner_token)  # fmt: skip
        assert twice.status_code == 409
        assert OutboxMessage.objects.filter(kind="pause").count() == 2
    finally:
        remove_accounts(account, slurm_prefixes(BACKEND))
