"""End to end with real parts: PostgreSQL, Redis, a Celery worker process and a site-agent process."""

import pytest

from providers.models import OutboxMessage

from .harness import wait_for
from .stack import build_stack, stop_stack

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def stack(live_server, tmp_path):
    stack = build_stack(live_server, tmp_path)
    yield stack
    stop_stack(stack)


def test_order_lifecycle_through_worker_and_agent(stack):
    order = stack.order("alloc-one", cpu=200)
    assert order["state"] == "pending-provider"
    stack.approve(order["uuid"])
    done = stack.wait_final([order["uuid"]])[order["uuid"]]
    assert done.state == "done", done.error_message
    resource = stack.resource(order["uuid"])
    assert resource.state == "OK"
    assert resource.backend_id and resource.backend_id.startswith("local-")

    # update_limits travels the same way and lands as the resource's new limits.
    answer = stack.api(
        "POST", f"/api/marketplace-resources/{resource.uuid}/update_limits/", json={"limits": {"cpu": 400}}
    )
    assert answer.status_code == 200, answer.text
    update_uuid = answer.json()["order_uuid"]
    stack.approve(update_uuid)
    assert stack.wait_final([update_uuid])[update_uuid].state == "done"
    resource.refresh_from_db()
    assert resource.limits == {"cpu": 400} and resource.state == "OK"

    # Usage produced by the agent is pulled by beat and listed by the allocator API.
    def usage_rows():
        rows = stack.api("GET", f"/api/marketplace-component-usages/?resource_uuid={resource.uuid}").json()
        return rows if rows and float(rows[0]["usage"]) == 100.0 else None  # 400 × the agent's 0.25

    rows = wait_for(usage_rows, timeout=30, message="usage to be pulled")
    assert rows[0]["type"] == "cpu" and rows[0]["resource_uuid"] == str(resource.uuid)

    # The manifest pulled from the agent is visible on the provider.
    def manifest():
        provider = stack.api("GET", f"/api/providers/{stack.provider.slug}/", token=stack.provider_owner_token).json()
        return provider if "features" in provider["manifest"] else None

    provider = wait_for(manifest, timeout=30, message="the manifest to be pulled")
    assert provider["manifest_fetched_at"] and provider["manifest"]["provider_id"] == stack.provider.slug

    answer = stack.api("POST", f"/api/marketplace-resources/{resource.uuid}/terminate/")
    assert answer.status_code == 200, answer.text
    terminate_uuid = answer.json()["order_uuid"]
    stack.approve(terminate_uuid)
    assert stack.wait_final([terminate_uuid])[terminate_uuid].state == "done"
    resource.refresh_from_db()
    assert resource.state == "terminated"
    assert stack.backend_calls("create") == [str(resource.uuid)]
    assert stack.backend_calls("update_limits") == [str(resource.uuid)]
    assert stack.backend_calls("terminate") == [str(resource.uuid)]


def test_membership_change_reaches_the_provider(stack):
    order = stack.order("alloc-members")
    stack.approve(order["uuid"])
    stack.wait_final([order["uuid"]])
    from federation.models import Role, User
    from federation.services import role_grant

    newcomer = User.objects.create(username="newcomer")
    actor = User.objects.get(username="pm")
    role_grant(actor=actor, scope=stack.project, user=newcomer, role=Role.objects.get(name="PROJECT.MEMBER"))
    wait_for(
        lambda: OutboxMessage.objects.filter(kind="membership", state="delivered").exists(),
        timeout=30,
        message="the membership change to be delivered",
    )


def test_user_connection_maps_the_local_username_into_later_orders(stack):
    import sqlite3
    import subprocess
    import sys

    from providers.models import UserConnection

    from .harness import ROOT

    answer = stack.api("POST", f"/api/providers/{stack.provider.slug}/connect/")
    assert answer.status_code == 200, answer.text
    connection = answer.json()
    assert connection["state"] == "pending" and connection["redirect_url"].startswith(stack.agent.url + "/connect/")

    # The person logs in at the site; the agent confirms the mapping to the orchestrator, signed.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "site_agent",
            "--config",
            str(stack.agent.config_path),
            "connect",
            connection["uuid"],
            "pm_local",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    mapped = UserConnection.objects.get(uuid=connection["uuid"])
    assert mapped.state == "connected" and mapped.username == "pm_local"

    order = stack.order("alloc-connected")
    stack.approve(order["uuid"])
    assert stack.wait_final([order["uuid"]])[order["uuid"]].state == "done"
    with sqlite3.connect(stack.agent.tmp_path / "agent-state.sqlite3") as db:
        usernames = {row[0] for row in db.execute("SELECT username FROM project_members WHERE present = 1")}
    assert "pm_local" in usernames
