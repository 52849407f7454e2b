"""The staff's queues page: orders waiting for either side, erred orders and resources, resources near a
limit, each with its full count and links; only for those who see everything; a fixed number of queries."""

import html
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from accounting.models import ComponentUsage
from marketplace.models import OrderState
from portal.queues import QUEUE_SIZE

URL = "/queues/"
QUEUES_QUERIES = 11  # session, user, 2 counts, 4 queue lists, near-limit scan and its usage (3)


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def use(resource, amount):
    """This month's usage of the resource's k-hours (its limit is 100)."""
    ComponentUsage.objects.create(
        resource=resource,
        component_type="cpu_k_hours",
        billing_period=timezone.localdate().replace(day=1),
        usage=Decimal(amount),
        reported_at=timezone.now(),
    )


def counts(page: str) -> dict[str, int]:
    return {key: int(n) for key, n in re.findall(r'data-queue="([^"]+)">(\d+)<', page)}


@pytest.mark.parametrize("who", ["manager", "owner", "provider_owner", "member", "outsider"])
def test_the_queues_are_refused_to_everyone_else(request, who):
    response = browser(request.getfixturevalue(who)).get(URL)
    assert response.status_code == 403
    assert 'href="/queues/"' not in browser(request.getfixturevalue(who)).get("/").content.decode()


def test_the_queues_need_a_login(db):
    response = Client().get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.parametrize("who", ["staff", "support"])
def test_staff_and_support_see_every_queue_with_counts_and_links(request, order_in, who):
    waiting_consumer = order_in(OrderState.PENDING_CONSUMER, attributes={"name": "Waits for the project"})
    waiting_provider = order_in(OrderState.PENDING_PROVIDER, attributes={"name": "Waits for the centre"})
    erred = order_in(OrderState.ERRED, attributes={"name": "Broke"})
    full = order_in(OrderState.DONE, attributes={"name": "Nearly full"}).resource
    use(full, 95)
    order_in(OrderState.DONE, attributes={"name": "Barely used"})  # 0 %: in no queue
    user = request.getfixturevalue(who)
    page = html.unescape(browser(user).get(URL).content.decode())
    assert counts(page) == {
        "pending-consumer": 1,
        "pending-provider": 1,
        "erred-orders": 1,
        "erred-resources": 1,
        "near-limit": 1,
    }
    section = {key: page.split(f'id="{key}"')[1].split("</section>")[0] for key in counts(page)}
    assert f'href="/orders/{waiting_consumer.uuid}/"' in section["pending-consumer"]
    assert f'href="/orders/{waiting_provider.uuid}/"' in section["pending-provider"]
    assert f'href="/orders/{erred.uuid}/"' in section["erred-orders"] and "boom" in section["erred-orders"]
    assert f'href="/resources/{erred.resource.uuid}/"' in section["erred-resources"]
    assert f'href="/resources/{full.uuid}/#usage"' in section["near-limit"] and "95 %" in section["near-limit"]
    assert "Barely used" not in page
    assert 'href="/queues/"' in browser(user).get("/").content.decode()  # in the main navigation


def test_a_long_queue_shows_its_oldest_and_links_to_all(order_in, staff):
    orders = [order_in(OrderState.PENDING_CONSUMER, attributes={"name": f"Wait {i}"}) for i in range(QUEUE_SIZE + 2)]
    page = html.unescape(browser(staff).get(URL).content.decode())
    section = page.split('id="pending-consumer"')[1].split("</section>")[0]
    assert counts(page)["pending-consumer"] == QUEUE_SIZE + 2
    assert len(re.findall(r'href="/orders/[0-9a-f-]{36}/"', section)) == QUEUE_SIZE
    assert f'href="/orders/{orders[0].uuid}/"' in section and f'href="/orders/{orders[-1].uuid}/"' not in section
    assert """href="/orders/?state=pending-consumer">All 12: orders waiting for the project's approval</a>""" in section


@pytest.mark.parametrize("size", [1, 5])
def test_the_query_count_is_fixed(order_in, staff, django_assert_num_queries, size):
    for i in range(size):
        order_in(OrderState.PENDING_CONSUMER, attributes={"name": f"Waiting {i}"})
        order_in(OrderState.PENDING_PROVIDER, attributes={"name": f"Provider {i}"})
        order_in(OrderState.ERRED, attributes={"name": f"Broken {i}"})
        use(order_in(OrderState.DONE, attributes={"name": f"Full {i}"}).resource, 90 + i)
    client = browser(staff)
    with django_assert_num_queries(QUEUES_QUERIES):
        response = client.get(URL)
    assert response.status_code == 200
    assert set(counts(response.content.decode()).values()) == {size}
