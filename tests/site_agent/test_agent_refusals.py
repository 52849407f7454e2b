"""Items the orchestrator refuses for good are dropped, passing refusals are sent again, and the
agent never builds an item the orchestrator could only refuse."""

from site_agent.backends.base import BackendError
from site_agent.backends.local import LocalBackend
from tests.site_agent.harness import FakeOrchestrator, RunningAgent, batch, order_item, wait_until


def test_an_update_refused_as_invalid_is_dropped_and_never_sent_again(tmp_path):
    with FakeOrchestrator() as orch, RunningAgent(tmp_path, orch) as agent:
        refused, later = order_item(slug="refused"), order_item(slug="later")
        orch.judge = lambda kind, item: (
            {"accepted": False, "detail": "updates[0].backend_id: invalid", "retry": False}
            if item.get("order_uuid") == refused["order_uuid"]
            else None
        )
        assert orch.post(agent.url, "/orders/batch", batch(refused)).status_code == 202
        orch.wait_for(lambda: len(orch.refusals) == 1)
        wait_until(lambda: agent.store.outbox_count() == 0)

        # Later updates go through; the refused one is not among what the agent sends again.
        assert orch.post(agent.url, "/orders/batch", batch(later)).status_code == 202
        orch.wait_for(lambda: len(orch.updates) == 1)
        assert orch.updates[0]["order_uuid"] == later["order_uuid"]
        wait_until(lambda: agent.store.outbox_count() == 0)
        assert [item["order_uuid"] for _, item in orch.refusals] == [refused["order_uuid"]]


def test_an_update_refused_for_now_is_sent_again_until_it_is_taken(tmp_path):
    with FakeOrchestrator() as orch, RunningAgent(tmp_path, orch) as agent:
        busy = {"left": 2}

        def judge(kind, item):
            if busy["left"]:
                busy["left"] -= 1
                return {"accepted": False, "detail": "The database is busy.", "retry": True}
            return None

        orch.judge = judge
        item = order_item(slug="busy")
        assert orch.post(agent.url, "/orders/batch", batch(item)).status_code == 202
        orch.wait_for(lambda: len(orch.updates) == 1)
        assert len(orch.refusals) == 2 and orch.updates[0]["order_uuid"] == item["order_uuid"]
        wait_until(lambda: agent.store.outbox_count() == 0)


class NulErrorBackend(LocalBackend):
    def create(self, allocation):
        raise BackendError("quota\x00exceeded \ud800 at the site " + "x" * 20000)


def test_a_backend_error_text_is_made_storable_before_it_is_sent(tmp_path):
    with FakeOrchestrator() as orch:
        backend = NulErrorBackend({"state_path": str(tmp_path / "state.sqlite3")})
        with RunningAgent(tmp_path, orch, instance=backend) as agent:
            item = order_item(slug="nul")
            assert orch.post(agent.url, "/orders/batch", batch(item)).status_code == 202
            orch.wait_for(lambda: len(orch.updates) == 1)
        [update] = orch.updates
        assert update["state"] == "erred"
        assert update["error_message"].startswith("quotaexceeded  at the site")
        assert len(update["error_message"]) == 10000
        assert orch.refusals == []


def test_usage_the_orchestrator_cannot_hold_is_neither_recorded_nor_pushed(tmp_path):
    with (
        FakeOrchestrator() as orch,
        RunningAgent(tmp_path, orch, usage={"sample_interval": 0.1, "push": True}) as agent,
    ):
        limits = {"cpu": 10, "c" * 60: 10, "huge": 4 * 10**30}
        assert orch.post(agent.url, "/orders/batch", batch(order_item(slug="odd", limits=limits))).status_code == 202
        orch.wait_for(lambda: len(orch.usage) == 1)
        records = orch.get(agent.url, "/usage").json()["records"]
        assert [(r["component_type"], r["amount"]) for r in records] == [("cpu", "2.5")]
        assert [(r["component_type"], r["amount"]) for r in orch.usage] == [("cpu", "2.5")]
        assert orch.refusals == []
