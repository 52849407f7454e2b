"""Real threads on PostgreSQL: the row locks let exactly one of N simultaneous requests through.

Marked `postgresql`: on any other database these tests are skipped with the reason.
"""

import pytest

from common.exceptions import Conflict
from marketplace import services
from marketplace.models import Order, OrderState, StateChange
from tests.concurrency import race

pytestmark = pytest.mark.postgresql

N = 8


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_simultaneous_approvals_give_one_success(order_in, manager):
    order = order_in(OrderState.PENDING_CONSUMER)
    results, errors = race(lambda _: services.order_approve_by_consumer(order=order.uuid, actor=manager), range(N))
    assert len(results) == 1
    assert len(errors) == N - 1 and all(isinstance(e, Conflict) for e in errors), errors
    assert all("it is pending-provider" in e.message for e in errors)
    assert Order.objects.get(pk=order.pk).state == OrderState.PENDING_PROVIDER
    assert StateChange.objects.filter(order=order, to_state=OrderState.PENDING_PROVIDER).count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_simultaneous_update_limits_give_one_order(ok_resource, manager):
    results, errors = race(
        lambda amount: services.resource_update_limits(
            resource=ok_resource, actor=manager, limits={"cpu_k_hours": amount}
        ),
        [200 + i for i in range(N)],
    )
    assert len(results) == 1
    assert len(errors) == N - 1 and all(isinstance(e, Conflict) for e in errors), errors
    assert Order.objects.filter(resource=ok_resource, type="Update").count() == 1
