"""Faults between the worker and the agent: each ends with every order final, none lost, none doubled."""

import signal
import time

import pytest

from federation.models import User
from marketplace import services as marketplace
from providers.models import OutboxMessage
from tests.factories import make_provider

from .harness import FaultProxy, Worker, wait_for
from .stack import build_stack, stop_stack

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _approve_many(stack, count: int) -> list[str]:
    uuids = []
    for i in range(count):
        order = stack.order(f"fault-{i}")
        stack.approve(order["uuid"])
        uuids.append(order["uuid"])
    return uuids


def _attempted(min_attempts: int):
    return lambda: OutboxMessage.objects.filter(kind="order", attempts__gte=min_attempts).exists()


def test_agent_down_while_orders_are_approved(live_server, tmp_path):
    stack = build_stack(live_server, tmp_path, start_agent=False)
    try:
        uuids = _approve_many(stack, 4)
        wait_for(_attempted(2), timeout=60, message="failed delivery attempts")
        stack.agent.start()
        stack.assert_nothing_lost_or_doubled(uuids)
        assert {o.state for o in stack.wait_final(uuids).values()} == {"done"}
    finally:
        stop_stack(stack)


def test_agent_answering_500_for_a_while(live_server, tmp_path):
    stack = build_stack(live_server, tmp_path, use_proxy=True)
    try:
        stack.proxy.mode = "error"
        uuids = _approve_many(stack, 3)
        wait_for(_attempted(2), timeout=60, message="retries after HTTP 500")
        assert OutboxMessage.objects.filter(kind="order", last_error__contains="HTTP 500").exists()
        stack.proxy.mode = "pass"
        stack.assert_nothing_lost_or_doubled(uuids)
        assert {o.state for o in stack.wait_final(uuids).values()} == {"done"}
    finally:
        stop_stack(stack)


def test_agent_hanging_past_the_timeout(live_server, tmp_path):
    stack = build_stack(live_server, tmp_path, use_proxy=True)
    try:
        stack.proxy.mode = "hang"
        uuids = _approve_many(stack, 2)
        wait_for(
            lambda: OutboxMessage.objects.filter(kind="order", last_error__contains="did not answer").exists(),
            timeout=60,
            message="a delivery to time out",
        )
        stack.proxy.mode = "pass"
        stack.proxy.release.set()
        stack.assert_nothing_lost_or_doubled(uuids)
        assert {o.state for o in stack.wait_final(uuids).values()} == {"done"}
    finally:
        stop_stack(stack)


def test_worker_killed_mid_delivery(live_server, tmp_path):
    """The batch reaches the agent, the worker dies before it hears back, a new worker sends it again."""
    stack = build_stack(live_server, tmp_path, use_proxy=True, worker_env={"PROVIDER_TIMEOUT": "30"})
    try:
        stack.proxy.mode = "deliver_then_hang"
        uuids = _approve_many(stack, 3)
        wait_for(lambda: len(stack.backend_calls("create")) >= 1, timeout=60, message="the agent to get the batch")
        stack.worker.kill(signal.SIGKILL)
        assert OutboxMessage.objects.filter(kind="order", state="pending").exists()  # nothing marked delivered
        stack.proxy.mode = "pass"
        stack.proxy.release.set()
        stack.worker = Worker(tmp_path, extra_env={"PROVIDER_TIMEOUT": "30"}).start()
        stack.assert_nothing_lost_or_doubled(uuids)
        assert {o.state for o in stack.wait_final(uuids).values()} == {"done"}
        assert stack.proxy.seen.count("POST /orders/batch deliver_then_hang") >= 1
    finally:
        stop_stack(stack)


def test_batch_rejected_by_the_provider(live_server, tmp_path):
    stack = build_stack(live_server, tmp_path, use_proxy=True)
    try:
        stack.proxy.mode = "reject"
        uuids = _approve_many(stack, 2)
        orders = stack.wait_final(uuids)
        assert {o.state for o in orders.values()} == {"erred"}
        assert all("batch refused by site policy" in o.error_message for o in orders.values())
        assert not stack.backend_calls("create")
        assert {o.resource.state for o in orders.values()} == {"Erred"}
    finally:
        stop_stack(stack)


def test_a_hung_provider_does_not_delay_another_providers_orders(live_server, tmp_path):
    """Every call to one provider hangs (pulls and deliveries); another provider's orders still go through.

    The hung calls are held for longer than the test waits, so the order can only get through while
    they hang: on workers the hung provider could fill, it would wait for them to time out.
    """
    stack = build_stack(live_server, tmp_path, worker_env={"PROVIDER_TIMEOUT": "300"})
    hung = FaultProxy("http://127.0.0.1:9")
    hung.mode, hung.hang_seconds = "hang", 300
    try:
        hung_site = make_provider("hung-site", domain=hung.domain)
        marketplace.order_create(
            actor=User.objects.get(username="pm"),
            project=stack.project,
            offering=hung_site.offering,
            plan=hung_site.offering.plans.first(),
            attributes={"name": "stalled"},
            limits={"cpu": 10},
        )

        # The hung site now holds a delivery and the beat's manifest and usage pulls.
        def holding(call: str):
            return lambda: any(seen.startswith(call) for seen in hung.seen)

        for call in ("POST /orders/batch", "GET /manifest", "GET /usage"):
            wait_for(holding(call), timeout=60, message=f"the hung site to hold {call}")

        order = stack.order("while-another-site-hangs")
        started = time.monotonic()
        stack.approve(order["uuid"])
        done = stack.wait_final([order["uuid"]], timeout=60)[order["uuid"]]
        elapsed = time.monotonic() - started
        assert done.state == "done", done.error_message
        assert elapsed < 30, f"the order took {elapsed:.1f} s while another provider hung"
        # ... and all the while, none of the hung site's calls had come back.
        hung_site.provider.refresh_from_db()
        assert hung_site.provider.consecutive_failures == 0 and hung_site.provider.last_error == ""
        assert OutboxMessage.objects.get(provider=hung_site.provider).attempts == 0
    finally:
        hung.close()
        stop_stack(stack)
