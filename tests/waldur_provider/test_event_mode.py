"""The real waldur-site-agent 1.0.7 in `event_process` mode: orders and project roles reach it over
STOMP (RabbitMQ's Web-STOMP plugin) as they happen, and it carries them out on the real Slurm cluster.

The agent subscribes first; only then are orders placed, so nothing but the event stream can bring
them to it (its polling reconciliation runs hourly). A real Celery worker hands the events on and
publishes them. The time from placing an order to its `done` is measured and printed (run with
`-rP` to see it); the target is under 2 s, against the minutes an agent polling `order_process`
takes (its default period is 5 minutes).
"""

from __future__ import annotations

import json
import statistics
import time
from datetime import datetime

import pytest
import redis

from events.models import Event
from federation import services as structure
from federation.models import Role, RoleName
from marketplace.models import Order
from tests.factories import UserFactory
from tests.providers.harness import Worker
from tests.slurm import USERS, account_row, assoc_rows, wait_until
from waldur_provider.models import AgentMessage

from . import rabbitmq
from .agent import AgentProcess, place_order, remove_prefixed_accounts, slurm_site

pytestmark = [pytest.mark.e2e, pytest.mark.slurm, pytest.mark.django_db(transaction=True)]

PREFIX = "wev"  # accounts wevc_, wevp_, weva_: this file's own
MEMBER, NEWCOMER = USERS
ORDERS = 3


@pytest.fixture
def stream(slurm_cluster, live_server, tmp_path, waldur_agent_venv, settings, django_user_model):
    rabbitmq.require_broker()
    broker = {"AGENT_EVENTS_BROKER_API": rabbitmq.API, "AGENT_EVENTS_BROKER_URL": rabbitmq.AMQP_URL}
    for name, value in broker.items():
        setattr(settings, name, value)
    site = slurm_site(
        live_server, prefix=PREFIX, name="Event Site", agent_username="event-agent", manager_username=MEMBER
    )
    config = site["config"]
    host, port, path = rabbitmq.STOMP_WS
    config["offerings"][0].update(
        {
            "stomp_enabled": True,
            "stomp_ws_host": host,
            "stomp_ws_port": port,
            "stomp_ws_path": path,
            "websocket_use_tls": False,
        }
    )
    # The worker takes the live server's wake-ups from its broker (nothing else reads it in the tests).
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    worker = Worker(
        tmp_path,
        extra_env={
            **broker,
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "EVENT_DISPATCH_INTERVAL": "2",
            "AGENT_EVENTS_SEND_INTERVAL": "2",
        },
    ).start()
    agent = AgentProcess(waldur_agent_venv, tmp_path, config, name="events").start("event_process")
    try:
        agent.wait_log("Subscribing to /amq/queue/", timeout=90)
        yield {**site, "agent": agent, "worker": worker}
    finally:
        agent.stop()
        worker.stop()
        remove_prefixed_accounts(PREFIX)
        users = django_user_model.objects.values_list("uuid", flat=True)
        rabbitmq.remove_agent_objects(f"agent_{uuid.hex}" for uuid in users)


def _received_at(agent, order_uuid: str, state: str) -> float | None:
    """When the agent logged the message of the order entering `state` (epoch seconds), if it did."""
    needle = f"'order_uuid': '{order_uuid.replace('-', '')}', 'object_type': 'order', 'order_state': '{state}'"
    for line in agent.log().splitlines():
        if needle in line and "Processing order message" in line:
            return datetime.fromisoformat(json.loads(line)["timestamp"]).timestamp()
    return None


def _finished(order_uuid: str):
    return Order.objects.filter(uuid=order_uuid, state__in=["done", "erred"]).select_related("resource").first()


def test_orders_and_roles_reach_the_agent_over_stomp_and_are_carried_out_on_slurm(stream):
    agent = stream["agent"]
    latencies, deliveries, stages = [], [], []
    resources = []
    for number in range(1, ORDERS + 1):
        started, placed_at = time.monotonic(), time.time()
        order_uuid = place_order(stream, name=f"Run {number}", cpu=number)["uuid"]
        order = wait_until(lambda order_uuid=order_uuid: _finished(order_uuid), timeout=60, interval=0.05)
        latencies.append(time.monotonic() - started)
        received_at = _received_at(agent, order_uuid, "pending-provider")
        assert received_at is not None, f"the order came to the agent without a message:\n{agent.log()[-8000:]}"
        deliveries.append(received_at - placed_at)
        message = AgentMessage.objects.get(body__order_uuid=order.uuid.hex, body__order_state="pending-provider")
        event = Event.objects.get(uuid=message.event_uuid)
        stages.append(
            (
                event.created.timestamp() - placed_at,
                (message.created - event.created).total_seconds(),
                (message.sent_at - message.created).total_seconds(),
                received_at - message.sent_at.timestamp(),
            )
        )
        assert order is not None, f"the order did not finish:\n{agent.log()[-8000:]}\n{stream['worker'].log()}"
        assert order.state == "done", f"{order.error_message}\n{agent.log()[-8000:]}"
        # The agent finishes its own work on the order (the team's associations) before the next one.
        agent.wait_log(f"Finished processing order {order_uuid.replace('-', '')}", timeout=60)
        resource = order.resource
        assert resource.state == "OK"
        assert resource.backend_id == f"{PREFIX}a_{resource.slug}".lower()
        assert account_row(resource.backend_id)[4] == f"cpu={number * 60000}"
        resources.append(resource)
    # Nothing but the stream brought the orders: the agent's only order pass by polling ran at its start.
    assert agent.log().count("Running offering order process") == 1, agent.log()[-8000:]

    # A project role granted and revoked reaches the agent as `user_role` messages: an association
    # on every allocation of the project, then none.
    def members(resource):
        return sorted(row[2] for row in assoc_rows(resource.backend_id) if row[2])

    newcomer = UserFactory(username=NEWCOMER)
    started = time.monotonic()
    member_role = Role.objects.get(name=RoleName.PROJECT_MEMBER)
    structure.role_grant(actor=stream["manager"], scope=stream["project"], user=newcomer, role=member_role)
    assert wait_until(lambda: all(NEWCOMER in members(r) for r in resources), timeout=60, interval=0.1), (
        [members(r) for r in resources],
        agent.log()[-8000:],
    )
    granted_after = time.monotonic() - started
    structure.role_revoke(actor=stream["manager"], scope=stream["project"], user=newcomer, role=member_role)
    assert wait_until(lambda: all(NEWCOMER not in members(r) for r in resources), timeout=60, interval=0.1), (
        agent.log()[-8000:]
    )
    print(
        f"event mode: order placed → message at the agent in {_figures(deliveries)}; "
        f"placed → done (the agent's Slurm work included) in {_figures(latencies)}; "
        f"role granted → Slurm associations in {granted_after:.2f} s; "
        "stages (placed→event, event→outbox, outbox→broker, broker→agent): "
        + "; ".join(", ".join(f"{x:.2f}" for x in stage) for stage in stages)
    )


def _figures(seconds: list[float]) -> str:
    return f"{', '.join(f'{s:.2f}' for s in seconds)} s (median {statistics.median(seconds):.2f} s)"
