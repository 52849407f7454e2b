"""The real waldur-site-agent 1.0.7 with its Slurm plugin, pointed at our API, on the real test cluster.

An order placed through our API is picked up by the agent's `order_process` mode, which approves it,
creates the Slurm accounts with the ordered limits, names the account as the resource's backend_id
and marks the order done, all through the provider side of Waldur's API.
"""

from __future__ import annotations

import pytest
import requests

from accounting.models import ComponentUsage
from federation import services as structure
from federation.models import Role, RoleName
from marketplace.models import Order
from tests.factories import UserFactory, grant
from tests.slurm import USERS, account_row, assoc_rows, job_state, sbatch, submitted_job_id, wait_until

from .agent import AgentProcess, place_order, remove_prefixed_accounts, slurm_site

pytestmark = [pytest.mark.e2e, pytest.mark.slurm, pytest.mark.django_db(transaction=True)]

PREFIX = "wsa"  # accounts wsac_ (customer), wsap_ (project), wsaa_ (allocation): this file's own
MEMBER, NEWCOMER = USERS


@pytest.fixture
def site(slurm_cluster, live_server, tmp_path, waldur_agent_venv):
    site = slurm_site(
        live_server, prefix=PREFIX, name="Waldur Site", agent_username="site-agent", manager_username=MEMBER
    )
    config = site["config"]
    site["agent"] = AgentProcess(waldur_agent_venv, tmp_path, config)
    site["reporter"] = AgentProcess(waldur_agent_venv, tmp_path, config, name="report")
    site["syncer"] = AgentProcess(waldur_agent_venv, tmp_path, config, name="membership")
    yield site
    for name in ("agent", "reporter", "syncer"):
        site[name].stop()
    remove_prefixed_accounts(PREFIX)


def test_order_carried_out_on_slurm_then_usage_reported_by_the_waldur_agent(site):
    placed = place_order(site, cpu=5)
    agent = site["agent"].start("order_process")

    def finished():
        order = Order.objects.select_related("resource").get(uuid=placed["uuid"])
        return order if order.state in {"done", "erred", "rejected", "canceled"} else None

    order = wait_until(finished, timeout=120, interval=0.5)
    assert order is not None, f"the order did not finish:\n{agent.log()[-8000:]}"
    assert order.state == "done", f"{order.state}: {order.error_message}\n{agent.log()[-8000:]}"
    assert order.provider_reviewed_by.username == "site-agent"

    resource = order.resource
    assert resource.state == "OK"
    assert resource.backend_id == f"{PREFIX}a_{resource.slug}".lower()
    assert resource.limits == {"cpu": 5}

    # The account tree the plugin builds: customer → project → allocation, the limit in TRES minutes.
    allocation = account_row(resource.backend_id)
    assert allocation is not None, assoc_rows()
    assert allocation[3] == f"{PREFIX}p_genomics"
    assert allocation[4] == "cpu=300000"  # 5 k-hours × 60000 minutes per unit (the agent's unit_factor)
    assert account_row(f"{PREFIX}p_genomics")[3] == f"{PREFIX}c_research-org"

    # After the order is done, the project's team gets associations (the member's username here is
    # their username at the site).
    def members():
        return [row[2] for row in assoc_rows(resource.backend_id) if row[2]]

    assert wait_until(members, timeout=60) == [MEMBER], agent.log()[-8000:]

    # `membership_sync` mode: a new member of the project gets an association; the error paths
    # of the mode (set_as_erred) are never taken.
    newcomer = UserFactory(username=NEWCOMER)
    grant(newcomer, site["project"], RoleName.PROJECT_MEMBER)
    syncer = site["syncer"].start("membership_sync")
    members_now = wait_until(lambda: sorted(members()) if NEWCOMER in members() else None, timeout=90)
    assert members_now == sorted([MEMBER, NEWCOMER]), syncer.log()[-8000:]
    syncer.wait_log("last sync", timeout=30)
    assert '"level": "error"' not in syncer.log(), syncer.log()[-8000:]
    syncer.stop()

    # ... and one who leaves the project loses it at the next sync (each start runs one).
    structure.role_revoke(
        actor=site["manager"], scope=site["project"], user=newcomer, role=Role.objects.get(name=RoleName.PROJECT_MEMBER)
    )
    syncer = site["syncer"].start("membership_sync")
    assert wait_until(lambda: members() == [MEMBER], timeout=90), (members(), syncer.log()[-8000:])
    syncer.stop()

    # `report` mode: a job of the member on the account, then the agent reports the month's usage
    # through set_usage and set_user_usages into our usage rows.
    job = submitted_job_id(sbatch(MEMBER, resource.backend_id, seconds=1))
    assert wait_until(lambda: job_state(job) == "COMPLETED", timeout=90), job_state(job)
    reporter = site["reporter"].start("report")

    def reported():
        rows = ComponentUsage.objects.filter(resource=resource, component_type="cpu")
        return dict(rows.values_list("username", "usage")) if rows.filter(username=MEMBER).exists() else None

    usage = wait_until(reported, timeout=120, interval=0.5)
    assert usage is not None, reporter.log()[-8000:]
    assert set(usage) == {"", MEMBER}  # the resource's total and the member's share
    assert usage[""] >= usage[MEMBER] >= 0


def _run_agent_until_final(site, order_uuid: str) -> Order:
    """Start the agent's order_process mode (its first cycle runs at start), wait for the order to
    finish, stop the agent."""
    agent = site["agent"].start("order_process")
    try:
        order = wait_until(
            lambda: (
                Order.objects.filter(uuid=order_uuid, state__in=["done", "erred"]).select_related("resource").first()
            ),
            timeout=120,
            interval=0.5,
        )
        assert order is not None, f"the order did not finish:\n{agent.log()[-8000:]}"
        assert order.state == "done", f"{order.error_message}\n{agent.log()[-8000:]}"
        return order
    finally:
        agent.stop()


def _as_manager(site, path: str, body: dict) -> dict:
    answer = requests.post(
        f"{site['url']}{path}", headers={"Authorization": f"Token {site['manager_token']}"}, json=body, timeout=30
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_update_and_terminate_orders_are_carried_out_on_slurm_by_the_waldur_agent(site):
    resource = _run_agent_until_final(site, place_order(site, cpu=5)["uuid"]).resource
    assert account_row(resource.backend_id)[4] == "cpu=300000"

    # Update: the agent changes the account's limit; the order's limits become the resource's.
    update = _as_manager(site, f"/api/marketplace-resources/{resource.uuid}/update_limits/", {"limits": {"cpu": 2}})
    assert Order.objects.get(uuid=update["order_uuid"]).state == "pending-provider"
    _run_agent_until_final(site, update["order_uuid"])
    resource.refresh_from_db()
    assert (resource.state, resource.limits) == ("OK", {"cpu": 2})
    assert account_row(resource.backend_id)[4] == "cpu=120000"

    # Terminate: the allocation's account goes, and so does the project's, now empty.
    terminate = _as_manager(site, f"/api/marketplace-resources/{resource.uuid}/terminate/", {"attributes": {}})
    _run_agent_until_final(site, terminate["order_uuid"])
    resource.refresh_from_db()
    assert resource.state == "Terminated"
    assert account_row(resource.backend_id) is None
    assert account_row(f"{PREFIX}p_genomics") is None
