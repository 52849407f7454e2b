"""A usage policy enforced on a real Slurm cluster: the member's job runs, the site agent reports its
usage, the orchestrator finds the project past its limit in the transaction that stores the usage,
pauses the allocation at the site, and Slurm refuses the member's next job; raising the limit lets
jobs in again.

The time from the usage being stored to Slurm refusing submissions is logged (`-o log_cli=true`
shows it); the bound asserted is loose on purpose, so that a slow machine does not fail the test.
"""

import logging
import time
from decimal import Decimal

import pytest

from accounting.models import ComponentUsage
from accounting.policies import services as policies
from accounting.policies.models import Policy
from events.models import Event
from providers import services
from tests.factories import UserFactory
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
BACKEND = slurm_backend("q")
SLOW = 60  # seconds: far above the second or two it takes, so a loaded machine does not fail the test


@pytest.fixture
def stack(slurm_cluster, live_server, tmp_path):
    stack = build_slurm_stack(live_server, tmp_path, BACKEND, MEMBER)
    yield stack
    stop_stack(stack)


def test_usage_past_the_limit_pauses_at_slurm_and_a_raised_limit_resumes(stack):
    order = stack.order("policed", cpu=1, component="cpu_k_hours")
    stack.approve(order["uuid"])
    done = stack.wait_final([order["uuid"]])[order["uuid"]]
    assert done.state == "done", done.error_message
    resource = stack.resource(order["uuid"])
    account = resource.backend_id
    try:
        assert wait_until(lambda: MEMBER in {row[2] for row in assoc_rows(account)}, timeout=10), assoc_rows(account)
        assert services.manifest_pull(provider=stack.provider)  # the site says it can pause

        # The project may use a hundred-millionth of a CPU k-hour (0.036 CPU-seconds) this month;
        # at 100 % its allocations pause.
        staff = UserFactory(username="allocator-staff", is_staff=True)
        policy = policies.policy_create(
            actor=staff, scope=stack.project, kind="usage", component_type="cpu_k_hours",
            limit_usage=Decimal("0.00000001"), period="month",
            thresholds=[{"percent": 80, "actions": ["notify"]}, {"percent": 100, "actions": ["pause"]}],
        )  # fmt: skip

        first = submitted_job_id(sbatch(MEMBER, account, seconds=2))
        assert wait_until(lambda: job_state(first) == "COMPLETED", timeout=60), job_state(first)

        def stored_usage():
            row = ComponentUsage.objects.filter(resource=resource, username="", usage__gt=0).first()
            return row if row and row.usage > policy.limit_usage else None

        usage = wait_for(stored_usage, timeout=SLOW, message="the job's usage to reach the orchestrator")
        stored_at = usage.modified.timestamp()
        assert wait_until(lambda: account_row(account)[GRP_SUBMIT_JOBS] == "0", timeout=SLOW, interval=0.05), (
            account_row(account)
        )
        refused_at = time.time()
        refused = sbatch(MEMBER, account, seconds=1)
        assert refused.returncode != 0, refused.stdout
        assert "AssocGrpSubmitJobsLimit" in refused.stderr or "policy" in refused.stderr, refused.stderr
        log.info("usage stored → Slurm refuses submissions: %.2f s", refused_at - stored_at)
        assert refused_at - stored_at < SLOW

        resource.refresh_from_db()
        assert resource.paused is True
        fired = Event.objects.filter(event_type="policy_fired", context__policy_uuid=str(policy.uuid))
        assert {event.context["threshold"] for event in fired} == {"80", "100"}

        # Raising the limit above the usage undoes the firing: the allocation is resumed at the site.
        policies.policy_update(actor=staff, policy=Policy.objects.get(id=policy.id), limit_usage=Decimal("1000"))
        assert wait_until(lambda: account_row(account)[GRP_SUBMIT_JOBS] == "", timeout=SLOW), account_row(account)
        again = submitted_job_id(sbatch(MEMBER, account, seconds=1))
        assert wait_until(lambda: job_state(again) in {"RUNNING", "COMPLETED"}, timeout=60), job_state(again)
        resource.refresh_from_db()
        assert resource.paused is False
    finally:
        remove_accounts(account, slurm_prefixes(BACKEND))
