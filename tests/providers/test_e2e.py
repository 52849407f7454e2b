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
    assert resource.state == "Terminated"
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
    import json
    import sqlite3
    import subprocess
    import sys

    from providers.models import UserConnection

    from .harness import ROOT

    # Only a member of a project with a resource at the provider may connect there.
    refused = stack.api("POST", f"/api/providers/{stack.provider.slug}/connect/")
    assert refused.status_code == 404, refused.text
    first = stack.order("alloc-first")
    stack.approve(first["uuid"])
    assert stack.wait_final([first["uuid"]])[first["uuid"]].state == "done"

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

    def members():
        with sqlite3.connect(stack.agent.tmp_path / "agent-state.sqlite3") as db:
            return {row[0] for row in db.execute("SELECT username FROM project_members WHERE present = 1")}

    # The project with a resource there learns the username at once, and later orders carry it.
    wait_for(lambda: "pm_local" in members(), timeout=30, message="the connected username to reach the agent")
    order = stack.order("alloc-connected")
    stack.approve(order["uuid"])
    assert stack.wait_final([order["uuid"]])[order["uuid"]].state == "done"
    with sqlite3.connect(stack.agent.tmp_path / "agent-state.sqlite3") as db:
        (payload,) = db.execute("SELECT payload FROM orders WHERE order_uuid = ?", (order["uuid"],)).fetchone()
    assert "pm_local" in {m["username"] for m in json.loads(payload)["project"]["members"]}


def test_invalid_items_in_the_agents_outbox_are_refused_alone_and_dropped(stack):
    """Items an older agent queued that the orchestrator cannot hold: refused one by one, never resent."""
    import json
    import sqlite3
    import time

    from django.utils import timezone

    from accounting.models import ComponentUsage

    order = stack.order("alloc-usage")
    stack.approve(order["uuid"])
    assert stack.wait_final([order["uuid"]])[order["uuid"]].state == "done"
    resource = stack.resource(order["uuid"])
    month = timezone.localdate().replace(day=1).isoformat()
    record = {"resource_uuid": str(resource.uuid), "backend_id": resource.backend_id, "component_type": "cpu",
              "billing_month": month, "amount": "7", "username": "alice"}  # fmt: skip
    queued = [
        ("usage", {**record, "cursor": 9001, "billing_month": "0000-01-01"}),
        ("usage", {**record, "cursor": 9002, "username": "bo\u0000b"}),
        ("usage", {**record, "cursor": 9003, "amount": "1e30"}),
        ("usage", {**record, "cursor": 9004, "component_type": "c" * 61}),
        ("usage", {**record, "cursor": 9005}),
        ("order_update", {"order_uuid": order["uuid"], "state": "erred", "error_message": "disk\u0000full"}),
    ]
    with sqlite3.connect(stack.agent.tmp_path / "agent-state.sqlite3", timeout=30) as db:
        db.executemany(
            "INSERT INTO outbox (kind, payload, created_at) VALUES (?, ?, ?)",
            [(kind, json.dumps(payload), time.time()) for kind, payload in queued],
        )

    def outbox_empty():
        with sqlite3.connect(stack.agent.tmp_path / "agent-state.sqlite3", timeout=30) as db:
            return db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == 0

    wait_for(outbox_empty, timeout=30, message="the agent to deliver or drop its outbox")
    stored = ComponentUsage.objects.get(resource=resource, component_type="cpu", username="alice")
    assert float(stored.usage) == 7.0
    assert not ComponentUsage.objects.filter(resource=resource).exclude(username__in=["", "alice"]).exists()
    assert ComponentUsage.objects.filter(resource=resource, component_type="c" * 61).count() == 0
    assert stack.wait_final([order["uuid"]])[order["uuid"]].state == "done"  # the refused update changed nothing
    assert stack.agent.log_path.read_text(errors="replace").count("for good, dropped") == 5
