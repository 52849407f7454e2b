import uuid

from tests.site_agent.harness import FakeOrchestrator, RunningAgent, batch, order_item, wait_until

PROJECT = "6d1a4e8c-0000-4000-8000-000000000001"
BOB = "6d1a4e8c-0000-4000-8000-0000000000a3"


def test_verify_names_what_each_side_does_not_know(tmp_path):
    with FakeOrchestrator() as orch, RunningAgent(tmp_path, orch) as agent:
        kept, forgotten, gone = order_item(slug="kept"), order_item(slug="forgotten"), order_item(slug="gone")
        assert orch.post(agent.url, "/orders/batch", batch(kept, forgotten, gone)).status_code == 202
        terminate = order_item("terminate", resource_uuid=gone["resource"]["uuid"], slug="gone")
        assert orch.post(agent.url, "/orders/batch", batch(terminate)).status_code == 202
        orch.wait_for(lambda: len(orch.updates) == 4)

        phantom = str(uuid.uuid4())
        claimed = [
            {"resource_uuid": kept["resource"]["uuid"], "backend_id": "local-kept"},
            {"resource_uuid": phantom, "backend_id": "local-phantom"},
            {"resource_uuid": gone["resource"]["uuid"], "backend_id": "local-gone"},
        ]
        result = orch.post(agent.url, "/verify", {"resources": claimed}).json()

        assert sorted(result["unknown_to_provider"]) == sorted([phantom, gone["resource"]["uuid"]])
        assert result["unknown_to_orchestrator"] == [
            {"resource_uuid": forgotten["resource"]["uuid"], "backend_id": "local-forgotten"}
        ]
        assert orch.post(agent.url, "/verify", {"resources": [{"resource_uuid": "x"}]}).status_code == 400


def test_membership_changes_reach_every_live_allocation_once(tmp_path):
    journal = tmp_path / "journal.log"
    with (
        FakeOrchestrator() as orch,
        RunningAgent(tmp_path, orch, backend={"name": "local", "local": {"journal_path": str(journal)}}) as agent,
    ):
        one, two = order_item(slug="one"), order_item(slug="two")
        assert orch.post(agent.url, "/orders/batch", batch(one, two)).status_code == 202
        orch.wait_for(lambda: len(orch.updates) == 2)

        add = {
            "change_id": "c-1",
            "project_uuid": PROJECT,
            "user_uuid": BOB,
            "username": "bob",
            "role": "PROJECT.MEMBER",
            "action": "add",
        }
        response = orch.post(agent.url, "/memberships", {"changes": [add]})
        assert response.status_code == 202
        assert response.json() == {"received": 1, "new": 1}
        wait_until(lambda: agent.store.membership_get("c-1")["state"] == "applied")
        assert agent.backend.users("local-one") == ["alice", "bob"]
        assert agent.backend.users("local-two") == ["alice", "bob"]

        # Later creates in the project include the member.
        three = order_item(slug="three")
        assert orch.post(agent.url, "/orders/batch", batch(three)).status_code == 202
        orch.wait_for(lambda: len(orch.updates) == 3)
        assert agent.backend.users("local-three") == ["alice", "bob"]

        remove = {**add, "change_id": "c-2", "action": "remove"}
        assert orch.post(agent.url, "/memberships", {"changes": [remove]}).json()["new"] == 1
        wait_until(lambda: agent.store.membership_get("c-2")["state"] == "applied")
        assert agent.backend.users("local-one") == ["alice"]

        # Re-sent changes are idempotent by change_id: the old "add" does not bring bob back.
        assert orch.post(agent.url, "/memberships", {"changes": [add]}).json() == {"received": 1, "new": 0}
        four = order_item(slug="four")
        assert orch.post(agent.url, "/orders/batch", batch(four)).status_code == 202
        orch.wait_for(lambda: len(orch.updates) == 4)
        assert agent.backend.users("local-four") == ["alice"]

        lines = journal.read_text().splitlines()
        assert [line.split()[0] for line in lines].count("create") == 4
        assert f"add_user {one['resource']['uuid']} bob" in lines
        assert f"remove_user {two['resource']['uuid']} bob" in lines
        assert len([line for line in lines if line.startswith("add_user")]) == 2  # the re-sent change did nothing

        bad = orch.post(agent.url, "/memberships", {"changes": [{**add, "action": "promote"}]})
        assert bad.status_code == 400
        assert bad.json()["field"] == "changes[0].action"
