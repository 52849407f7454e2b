"""Pause and resume at the agent: stored once per change_id, applied in sequence order, by the backend."""

import uuid

import pytest

from site_agent.backends.base import Backend
from site_agent.backends.local import LocalBackend
from site_agent.backends.slurm import SlurmBackend
from tests.site_agent.harness import FakeOrchestrator, RunningAgent, batch, order_item, wait_until


def change(resource_uuid: str, sequence: int, paused: bool, **extra) -> dict:
    return {
        "change_id": f"{uuid.UUID(resource_uuid).hex}-{sequence}",
        "resource_uuid": resource_uuid,
        "backend_id": "",
        "sequence": sequence,
        "paused": paused,
        "reason": "over budget",
        **extra,
    }


def _created(orch, agent, *slugs):
    items = [order_item(slug=slug) for slug in slugs]
    assert orch.post(agent.url, "/orders/batch", batch(*items)).status_code == 202
    orch.wait_for(lambda: len(orch.updates) == len(items))
    return [item["resource"]["uuid"] for item in items]


def _state(agent, change_id):
    row = agent.store.pause_get(change_id)
    return row["state"] if row else None


def test_pause_and_resume_reach_the_local_backend_once(tmp_path):
    journal = tmp_path / "journal.log"
    with (
        FakeOrchestrator() as orch,
        RunningAgent(tmp_path, orch, backend={"name": "local", "local": {"journal_path": str(journal)}}) as agent,
    ):
        [resource] = _created(orch, agent, "one")
        pause = change(resource, 5, True)
        answer = orch.post(agent.url, "/resources/pause", {"changes": [pause]})
        assert answer.status_code == 202
        assert answer.json() == {"items": [{"change_id": pause["change_id"], "status": "accepted"}]}
        wait_until(lambda: _state(agent, pause["change_id"]) == "applied")
        assert agent.backend.paused("local-one") is True
        assert agent.store.pause_state(resource) == (5, True)

        # A second delivery is acknowledged as a duplicate and changes nothing.
        again = orch.post(agent.url, "/resources/pause", {"changes": [pause]})
        assert again.json() == {"items": [{"change_id": pause["change_id"], "status": "duplicate"}]}

        resume = change(resource, 7, False)
        assert orch.post(agent.url, "/resources/pause", {"changes": [resume]}).status_code == 202
        wait_until(lambda: _state(agent, resume["change_id"]) == "applied")
        assert agent.backend.paused("local-one") is False

        # A late pause older than the resume already applied is superseded: the resource stays running.
        late = change(resource, 6, True)
        assert orch.post(agent.url, "/resources/pause", {"changes": [late]}).json()["items"][0]["status"] == "accepted"
        wait_until(lambda: _state(agent, late["change_id"]) == "superseded")
        assert agent.backend.paused("local-one") is False
        assert agent.store.pause_state(resource) == (7, False)

        calls = [line.split()[0] for line in journal.read_text().splitlines()]
        assert (calls.count("pause"), calls.count("resume")) == (1, 1)


def test_changes_of_several_resources_in_one_request(tmp_path):
    with FakeOrchestrator() as orch, RunningAgent(tmp_path, orch) as agent:
        one, two = _created(orch, agent, "one", "two")
        changes = [change(one, 1, True), change(two, 2, True), change(one, 3, False)]
        answer = orch.post(agent.url, "/resources/pause", {"changes": changes})
        assert [item["status"] for item in answer.json()["items"]] == ["accepted"] * 3
        wait_until(lambda: all(_state(agent, c["change_id"]) == "applied" for c in changes))
        assert (agent.backend.paused("local-one"), agent.backend.paused("local-two")) == (False, True)


def test_a_change_for_an_unknown_resource_fails_at_the_site(tmp_path):
    with FakeOrchestrator() as orch, RunningAgent(tmp_path, orch) as agent:
        stray = change(str(uuid.uuid4()), 1, True)
        assert orch.post(agent.url, "/resources/pause", {"changes": [stray]}).status_code == 202
        wait_until(lambda: _state(agent, stray["change_id"]) == "failed")
        assert "no live allocation" in agent.store.pause_get(stray["change_id"])["error_message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"changes": [{"change_id": "c", "resource_uuid": "nope", "sequence": 1, "paused": True}]}, "resource_uuid"),
        (
            {"changes": [{"change_id": "c", "resource_uuid": str(uuid.uuid4()), "sequence": 0, "paused": True}]},
            "sequence",
        ),
        (
            {"changes": [{"change_id": "c", "resource_uuid": str(uuid.uuid4()), "sequence": 1, "paused": "yes"}]},
            "paused",
        ),
        ({"changes": "all"}, "changes"),
    ],
)
def test_a_malformed_change_is_400_naming_the_field(tmp_path, body, field):
    with FakeOrchestrator() as orch, RunningAgent(tmp_path, orch) as agent:
        answer = orch.post(agent.url, "/resources/pause", body)
        assert answer.status_code == 400
        assert field in answer.json()["field"]
        assert agent.store.pauses_pending(10) == []


@pytest.mark.parametrize("can_pause", [True, False])
def test_the_manifest_says_whether_the_site_can_pause(tmp_path, can_pause):
    local = {"can_pause": can_pause, "features": {"resources": {"pause": not can_pause}}}  # the backend decides
    with FakeOrchestrator() as orch, RunningAgent(tmp_path, orch, backend={"name": "local", "local": local}) as agent:
        manifest = orch.get(agent.url, "/manifest").json()
        assert manifest["features"]["resources"] == {"pause": can_pause}
        [resource] = _created(orch, agent, "one")
        answer = orch.post(agent.url, "/resources/pause", {"changes": [change(resource, 1, True)]})
        assert answer.status_code == (202 if can_pause else 409)
        if not can_pause:
            assert "cannot pause" in answer.json()["detail"]
            assert agent.store.pauses_pending(10) == []


class _NoPause(LocalBackend):
    pause = Backend.pause
    resume = Backend.resume


def test_a_backend_without_pause_does_not_advertise_it(tmp_path):
    assert _NoPause({"state_path": str(tmp_path / "s.sqlite3")}).can_pause is False
    assert SlurmBackend.pause is not Backend.pause  # the Slurm backend maps it to GrpSubmitJobs
