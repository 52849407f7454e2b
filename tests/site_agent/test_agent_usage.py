"""Usage records: appended only on change, paged by cursor, optionally pushed."""

from site_agent.usage import current_month, decimal_string
from tests.site_agent.harness import FakeOrchestrator, RunningAgent, batch, order_item


def _created(orch, agent, *items):
    assert orch.post(agent.url, "/orders/batch", batch(*items)).status_code == 202
    orch.wait_for(lambda: len(orch.updates) >= len(items))


def test_usage_pages_by_cursor_and_appends_only_changes(tmp_path):
    with FakeOrchestrator() as orch, RunningAgent(tmp_path, orch) as agent:
        items = [order_item(slug=f"u{i}", limits={"cpu": 100 * (i + 1), "storage": 8}) for i in range(3)]
        _created(orch, agent, *items)

        first = orch.get(agent.url, "/usage?after=0&limit=4").json()
        assert [r["cursor"] for r in first["records"]] == [1, 2, 3, 4]
        assert first["next_cursor"] == 4
        rest = orch.get(agent.url, f"/usage?after={first['next_cursor']}&limit=4").json()
        assert [r["cursor"] for r in rest["records"]] == [5, 6]
        records = first["records"] + rest["records"]
        cpu = {r["resource_uuid"]: r["amount"] for r in records if r["component_type"] == "cpu"}
        # local backend: limit * usage_fraction (0.25)
        assert cpu == {
            items[0]["resource"]["uuid"]: "25",
            items[1]["resource"]["uuid"]: "50",
            items[2]["resource"]["uuid"]: "75",
        }
        assert {r["billing_month"] for r in records} == {current_month().isoformat()}
        assert {r["backend_id"] for r in records} == {"local-u0", "local-u1", "local-u2"}

        # Nothing changed: sampling again adds nothing.
        again = orch.get(agent.url, f"/usage?after={rest['next_cursor']}").json()
        assert again == {"records": [], "next_cursor": 6}

        # A resize changes the usage of one component of one resource: one new record.
        update = order_item(
            "update", resource_uuid=items[0]["resource"]["uuid"], slug="u0", limits={"cpu": 400, "storage": 8}
        )
        _created(orch, agent, update)
        changed = orch.get(agent.url, "/usage?after=6").json()
        assert [(r["cursor"], r["component_type"], r["amount"]) for r in changed["records"]] == [(7, "cpu", "100")]

        assert orch.get(agent.url, "/usage?after=-1").status_code == 400
        assert orch.get(agent.url, "/usage?limit=0").status_code == 400
        assert orch.get(agent.url, "/usage?limit=abc").status_code == 400


def test_usage_is_sampled_on_an_interval_and_pushed(tmp_path):
    with (
        FakeOrchestrator() as orch,
        RunningAgent(tmp_path, orch, usage={"sample_interval": 0.1, "push": True}) as agent,
    ):
        _created(orch, agent, order_item(slug="pushed", limits={"cpu": 10}))
        orch.wait_for(lambda: len(orch.usage) == 1)
        assert orch.usage[0]["amount"] == "2.5"
        assert orch.usage[0]["cursor"] == 1
        assert orch.refused == []


def test_decimal_strings():
    assert decimal_string(2.5) == "2.5"
    assert decimal_string(3.0) == "3"
    assert decimal_string(100) == "100"
    assert decimal_string(0.1 + 0.2) == "0.30000000000000004"
