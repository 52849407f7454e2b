"""One orchestrator with a registered provider run by a real site agent, and a real Celery worker."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import requests

from federation import services as structure
from federation.models import Role, RoleName
from marketplace.models import Offering, Order, Plan, Resource
from providers.models import OutboxMessage, Provider
from tests.factories import (
    CustomerFactory,
    ProjectFactory,
    ProviderFactory,
    ProviderOfferingFactory,
    UserFactory,
    agent_offering,
    grant,
)

from .harness import Agent, FaultProxy, Worker, flush_broker, wait_for

FINAL = {"done", "erred", "canceled", "rejected"}


@dataclasses.dataclass
class Stack:
    url: str
    agent: Agent
    worker: Worker
    provider: Provider
    offering: Offering
    plan: Plan
    project: object
    manager_token: str
    provider_owner_token: str
    proxy: FaultProxy | None = None

    def api(self, method: str, path: str, token: str | None = None, **kwargs) -> requests.Response:
        headers = {"Authorization": f"Token {token or self.manager_token}"}
        return requests.request(method, self.url + path, headers=headers, timeout=30, **kwargs)

    def order(self, name: str, cpu: int = 100, component: str = "cpu") -> dict:
        """Order as the project manager (no consumer review), approve as the provider's owner."""
        created = self.api(
            "POST",
            "/api/marketplace-orders/",
            json={
                "project": f"{self.url}/api/projects/{self.project.uuid}/",
                "offering": f"{self.url}/api/marketplace-public-offerings/{self.offering.uuid}/",
                "plan": f"{self.url}/api/marketplace-public-offerings/{self.offering.uuid}/plans/{self.plan.uuid}/",
                "attributes": {"name": name},
                "limits": {component: cpu},
            },
        )
        assert created.status_code == 201, created.text
        return created.json()

    def approve(self, order_uuid: str) -> None:
        answer = self.api(
            "POST", f"/api/marketplace-orders/{order_uuid}/approve_by_provider/", token=self.provider_owner_token
        )
        assert answer.status_code == 200, answer.text

    def wait_final(self, order_uuids, timeout: float = 60.0) -> dict[str, Order]:
        def settled():
            orders = {str(o.uuid): o for o in Order.objects.filter(uuid__in=list(order_uuids))}
            return orders if all(o.state in FINAL for o in orders.values()) else None

        try:
            return wait_for(settled, timeout=timeout, interval=0.2, message="orders to reach a final state")
        except AssertionError:
            states = dict(Order.objects.filter(uuid__in=list(order_uuids)).values_list("uuid", "state"))
            raise AssertionError(
                f"orders not final: {states}\nworker:\n{self.worker.log()}\nagent:\n{self.agent.log()}"
            ) from None

    def resource(self, order_uuid: str) -> Resource:
        return Order.objects.select_related("resource").get(uuid=order_uuid).resource

    def backend_calls(self, operation: str) -> list[str]:
        return [line.split()[1] for line in self.agent.journal() if line.split()[0] == operation]

    def assert_nothing_lost_or_doubled(self, order_uuids) -> None:
        orders = self.wait_final(order_uuids)
        wait_for(
            lambda: not OutboxMessage.objects.filter(state=OutboxMessage.State.PENDING, kind="order").exists(),
            timeout=60,
            message="the outbox to settle",
        )
        created = self.backend_calls("create")
        assert len(created) == len(set(created)), f"a create reached the backend twice: {created}"
        for order in orders.values():
            if order.state == "done":
                assert str(order.resource.uuid) in created


def build_stack(
    live_server,
    tmp_path: Path,
    *,
    start_agent: bool = True,
    use_proxy: bool = False,
    worker_env=None,
    component: str = "cpu",
    backend_name: str = "local",
    backend: dict | None = None,
):
    flush_broker()
    provider_org = CustomerFactory(name="Site Org")
    provider_owner = UserFactory(username="site-owner")
    grant(provider_owner, provider_org, RoleName.CUSTOMER_OWNER)
    project = ProjectFactory(name="Genomics", customer=CustomerFactory(name="Research Org"))
    manager = UserFactory(username="pm")
    grant(manager, project, RoleName.PROJECT_MANAGER)
    offering = agent_offering(
        customer=provider_org,
        name="HPC via agent",
        auto_approve=False,
        component={
            "type": component,
            "name": "CPU hours",
            "measured_unit": "hours",
            "min_value": 0,
            "max_value": 100000,
        },
        price="0.01",
    )

    agent = Agent(tmp_path, orchestrator_url=live_server.url, backend_name=backend_name, backend=backend)
    proxy = FaultProxy(agent.url) if use_proxy else None
    provider = ProviderFactory(
        slug=agent.provider_id,
        name="E2E site",
        domain=proxy.domain if proxy else f"127.0.0.1:{agent.port}",
        https=False,
        env="development",
        customer=provider_org,
        jwks=agent.jwks(),
    )
    ProviderOfferingFactory(offering=offering, provider=provider)
    worker = Worker(tmp_path, extra_env=worker_env).start()
    if start_agent:
        agent.start()
    assert Role.objects.count() == 5
    return Stack(
        url=live_server.url,
        agent=agent,
        worker=worker,
        provider=provider,
        offering=offering,
        plan=offering.plans.get(),
        project=project,
        manager_token=structure.token_issue(user=manager),
        provider_owner_token=structure.token_issue(user=provider_owner),
        proxy=proxy,
    )


def stop_stack(stack: Stack) -> None:
    stack.worker.stop()
    stack.agent.stop()
    if stack.proxy:
        stack.proxy.close()


def slurm_backend(letter: str) -> dict:
    """The slurm backend's settings for one test file, its accounts named `<letter>c_`, `<letter>p_`
    and `<letter>a_` (customer, project, allocation), so files never touch each other's accounts."""
    return {
        "cluster_name": "federation",
        "customer_prefix": f"{letter}c_",
        "project_prefix": f"{letter}p_",
        "allocation_prefix": f"{letter}a_",
        "command_timeout": 30,
        "components": {"cpu_k_hours": {"tres": "cpu", "unit_factor": 60000}},
    }


def slurm_prefixes(backend: dict) -> tuple[str, ...]:
    """The backend's account prefixes, children before parents (the order they are removed in)."""
    return backend["allocation_prefix"], backend["project_prefix"], backend["customer_prefix"]


def build_slurm_stack(live_server, tmp_path: Path, backend: dict, member: str) -> Stack:
    """A stack whose agent runs the slurm backend, and whose project manager `pm` has the Linux
    account `member` at the site (a confirmed user connection)."""
    from federation.models import User
    from providers.models import UserConnection

    stack = build_stack(live_server, tmp_path, component="cpu_k_hours", backend_name="slurm", backend=backend)
    UserConnection.objects.create(
        user=User.objects.get(username="pm"), provider=stack.provider, state="connected", username=member
    )
    return stack
