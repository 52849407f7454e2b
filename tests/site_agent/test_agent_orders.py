import http.client

import requests

from site_agent.backends.local import LocalBackend
from tests.site_agent.harness import FakeOrchestrator, RunningAgent, batch, order_item


class CountingBackend(LocalBackend):
    """The local backend, counting calls, to see that an order runs once."""

    def __init__(self, config):
        super().__init__(config)
        self.calls = []

    def create(self, allocation):
        self.calls.append(("create", allocation.resource_uuid))
        return super().create(allocation)

    def update_limits(self, allocation, limits):
        self.calls.append(("update", allocation.resource_uuid))
        return super().update_limits(allocation, limits)

    def terminate(self, allocation):
        self.calls.append(("terminate", allocation.resource_uuid))
        return super().terminate(allocation)


def test_batch_is_accepted_executed_and_reported_signed(tmp_path):
    with FakeOrchestrator() as orch, RunningAgent(tmp_path, orch) as agent:
        first, second = order_item(slug="first"), order_item(slug="second")
        response = orch.post(agent.url, "/orders/batch", batch(first, second))

        assert response.status_code == 202
        body = response.json()
        assert [i["order_uuid"] for i in body["items"]] == [first["order_uuid"], second["order_uuid"]]
        assert all(i["accepted"] for i in body["items"])
        orch.wait_for(lambda: len(orch.updates) == 2)
        done = {u["order_uuid"]: u for u in orch.updates}
        assert done[first["order_uuid"]]["state"] == "done"
        assert done[first["order_uuid"]]["backend_id"] == "local-first"
        assert done[second["order_uuid"]]["backend_id"] == "local-second"
        assert orch.refused == []  # every callback carried a valid signature of the agent

        status = orch.get(agent.url, f"/orders/{first['order_uuid']}").json()
        assert status == {
            "order_uuid": first["order_uuid"],
            "state": "done",
            "backend_id": "local-first",
            "error_message": "",
        }
        assert agent.backend.users("local-first") == ["alice"]  # the connected member only


def test_update_and_terminate_follow_create(tmp_path):
    with FakeOrchestrator() as orch, RunningAgent(tmp_path, orch) as agent:
        create = order_item(slug="grow")
        resource_uuid = create["resource"]["uuid"]
        update = order_item("update", resource_uuid=resource_uuid, slug="grow", limits={"cpu": 500})
        terminate = order_item("terminate", resource_uuid=resource_uuid, slug="grow")
        assert orch.post(agent.url, "/orders/batch", batch(create, update)).status_code == 202
        orch.wait_for(lambda: len(orch.updates) == 2)
        assert agent.store.allocation_get(resource_uuid)["limits"] == {"cpu": 500}

        ack = orch.post(agent.url, "/orders/batch", batch(terminate)).json()
        assert ack["items"][0]["backend_id"] == "local-grow"  # known from the allocation
        orch.wait_for(lambda: len(orch.updates) == 3)
        assert [u["state"] for u in orch.updates] == ["done", "done", "done"]
        assert agent.store.allocation_get(resource_uuid)["live"] is False


def test_backend_refusal_is_reported_as_erred(tmp_path):
    with (
        FakeOrchestrator() as orch,
        RunningAgent(tmp_path, orch, backend={"name": "local", "local": {"refuse_slugs": ["nope"]}}) as agent,
    ):
        item = order_item(slug="nope")
        assert orch.post(agent.url, "/orders/batch", batch(item)).status_code == 202
        orch.wait_for(lambda: len(orch.updates) == 1)
        assert orch.updates[0]["state"] == "erred"
        assert "nope" in orch.updates[0]["error_message"]


def test_batch_with_one_bad_item_is_rejected_whole(tmp_path):
    with FakeOrchestrator() as orch, RunningAgent(tmp_path, orch) as agent:
        good = order_item(slug="good")
        bad = order_item(slug="bad")
        bad["resource"]["uuid"] = "not-a-uuid"
        worse = order_item(type="resize")

        response = orch.post(agent.url, "/orders/batch", batch(good, bad, worse))

        assert response.status_code == 400
        errors = response.json()["items"]
        assert [(e["index"], e["field"]) for e in errors] == [(1, "items[1].resource.uuid"), (2, "items[2].type")]
        assert agent.store.order_get(good["order_uuid"]) is None
        assert orch.get(agent.url, f"/orders/{good['order_uuid']}").status_code == 404


def test_bad_bodies_get_clear_400s(tmp_path):
    with FakeOrchestrator() as orch, RunningAgent(tmp_path, orch) as agent:
        body = b"{not json"
        response = requests.post(agent.url + "/orders/batch", data=body, headers=orch.headers(body), timeout=5)
        assert response.status_code == 400
        assert "JSON" in response.json()["detail"]
        response = orch.post(agent.url, "/orders/batch", {"batch_id": "x", "items": []})
        assert response.status_code == 400
        assert response.json()["items"][0]["field"] == "batch_id"
        response = orch.post(agent.url, "/orders/batch", [1, 2])
        assert response.status_code == 400
        assert orch.post(agent.url, "/verify", []).json()["field"] == "body"
        assert orch.get(agent.url, "/nowhere").status_code == 404
        assert orch.get(agent.url, "/orders/batch").status_code == 405

        host, port = agent.server.server_address[:2]
        for headers, status in (({"Content-Length": str(100 * 2**20)}, 413), ({}, 411)):
            connection = http.client.HTTPConnection(host, port, timeout=5)
            connection.putrequest("POST", "/orders/batch")
            for name, value in headers.items():
                connection.putheader(name, value)
            connection.endheaders()
            assert connection.getresponse().status == status
            connection.close()


def test_resent_order_is_acknowledged_not_executed_again_even_after_restart(tmp_path):
    item = order_item(slug="once")
    with FakeOrchestrator() as orch:
        backend = CountingBackend({"state_path": str(tmp_path / "state.sqlite3")})
        with RunningAgent(tmp_path, orch, instance=backend) as agent:
            assert orch.post(agent.url, "/orders/batch", batch(item)).status_code == 202
            orch.wait_for(lambda: len(orch.updates) == 1)
            again = orch.post(agent.url, "/orders/batch", batch(item))
            assert again.status_code == 202
            assert again.json()["items"][0] == {
                "order_uuid": item["order_uuid"],
                "accepted": True,
                "backend_id": "local-once",
            }

        backend = CountingBackend({"state_path": str(tmp_path / "state.sqlite3")})
        with RunningAgent(tmp_path, orch, instance=backend) as agent:
            again = orch.post(agent.url, "/orders/batch", batch(item))
            assert again.status_code == 202
            assert again.json()["items"][0]["backend_id"] == "local-once"
            assert orch.get(agent.url, f"/orders/{item['order_uuid']}").json()["state"] == "done"
        assert backend.calls == []
        assert len(orch.updates) == 1


def test_orders_interrupted_by_a_stop_run_at_the_next_start(tmp_path):
    from protocol.messages import OrderItem
    from site_agent.store import Store

    item = order_item(slug="interrupted")
    store = Store(tmp_path / "state.sqlite3")
    store.orders_accept("6d1a4e8c-0000-4000-8000-0000000000ee", [OrderItem.from_dict(item)])
    assert [r["order_uuid"] for r in store.orders_claim(10)] == [item["order_uuid"]]  # now "executing"
    store.close()

    with FakeOrchestrator() as orch, RunningAgent(tmp_path, orch):
        orch.wait_for(lambda: len(orch.updates) == 1)
    assert orch.updates[0] == {
        "order_uuid": item["order_uuid"],
        "state": "done",
        "backend_id": "local-interrupted",
        "error_message": "",
    }


def test_manifest_comes_from_the_backend_with_missing_features_off(tmp_path):
    local = {"features": {"storage": {"enabled": True}}, "components": ["cpu_k_hours"]}
    with FakeOrchestrator() as orch, RunningAgent(tmp_path, orch, backend={"name": "local", "local": local}) as agent:
        manifest = orch.get(agent.url, "/manifest").json()
        assert manifest["provider_id"] == "demo"
        assert manifest["components"] == ["cpu_k_hours"]
        assert manifest["offering_types"] == ["SiteAgent.Local"]
        assert manifest["features"]["storage"] == {"enabled": True, "shares": False, "projects": False}
        assert manifest["features"]["compute"]["docker"]["enabled"] is False
