"""Order updates wait in the agent's outbox until the orchestrator has taken them."""

import random

from site_agent.delivery import backoff_delay
from tests.site_agent.harness import FakeOrchestrator, RunningAgent, batch, order_item, wait_until


def test_updates_wait_while_the_orchestrator_is_down_and_arrive_when_it_is_back(tmp_path):
    orch = FakeOrchestrator().start()
    with RunningAgent(tmp_path, orch) as agent:
        assert orch.get(agent.url, "/manifest").status_code == 200  # the agent has the orchestrator's keys
        orch.stop()  # down: connections are refused

        items = [order_item(slug=f"offline-{i}") for i in range(3)]
        assert orch.post(agent.url, "/orders/batch", batch(*items)).status_code == 202
        wait_until(lambda: agent.store.outbox_count() == 3)
        wait_until(lambda: agent.sender.failures >= 2)  # it kept trying

        orch.start()  # back on the same port
        orch.wait_for(lambda: len(orch.updates) == 3)
        assert {u["backend_id"] for u in orch.updates} == {"local-offline-0", "local-offline-1", "local-offline-2"}
        wait_until(lambda: agent.store.outbox_count() == 0)
    orch.stop()


def test_5xx_answers_are_retried_and_undelivered_updates_survive_a_restart(tmp_path):
    with FakeOrchestrator() as orch:
        with RunningAgent(tmp_path, orch) as agent:
            orch.status = 503
            item = order_item(slug="later")
            assert orch.post(agent.url, "/orders/batch", batch(item)).status_code == 202
            wait_until(lambda: orch.requests >= 2)
            assert orch.updates == []
        assert orch.updates == []

        orch.status = 200
        with RunningAgent(tmp_path, orch):
            orch.wait_for(lambda: len(orch.updates) == 1)
        assert orch.updates[0]["order_uuid"] == item["order_uuid"]
        assert orch.updates[0]["state"] == "done"


def test_backoff_grows_exponentially_with_jitter_and_a_cap():
    random.seed(7)
    delays = [backoff_delay(n, base=1.0, maximum=30.0) for n in range(1, 10)]
    assert 0.5 <= delays[0] <= 1.0
    assert 4.0 <= delays[3] <= 8.0
    assert all(15.0 <= d <= 30.0 for d in delays[5:])
    assert len({round(backoff_delay(3, base=1.0, maximum=30.0), 6) for _ in range(20)}) > 1
