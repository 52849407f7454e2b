"""State writes: at once without a batch; with an explicit StateWriteBatch, only when it is flushed."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from common.exceptions import InvalidTransition
from marketplace import services
from marketplace.models import Order, OrderState, Resource, StateChange

pytestmark = pytest.mark.django_db


def _stored(order: Order) -> str:
    return Order.objects.values_list("state", flat=True).get(pk=order.pk)


def test_a_transition_without_a_batch_writes_at_once(order_in):
    order = order_in(OrderState.EXECUTING)
    unused = services.StateWriteBatch()  # a batch that exists but is not passed changes nothing
    services.order_set_state_done(order=order, actor=None, backend_id="b-1")
    assert _stored(order) == OrderState.DONE
    assert StateChange.objects.filter(order=order, to_state=OrderState.DONE).exists()
    assert Resource.objects.get(pk=order.resource_id).backend_id == "b-1"
    unused.flush()
    assert StateChange.objects.filter(order=order, to_state=OrderState.DONE).count() == 1


def test_a_transition_given_a_batch_writes_when_the_batch_is_flushed(order_in):
    order = order_in(OrderState.EXECUTING)
    batch = services.StateWriteBatch()
    locked = batch.lock_orders(pk=order.pk)[str(order.uuid)]
    changed = services.order_set_state_erred(order=locked, actor=None, error_message="disk full", batch=batch)
    assert changed is locked and locked.state == OrderState.ERRED
    assert _stored(order) == OrderState.EXECUTING
    assert not StateChange.objects.filter(order=order, to_state=OrderState.ERRED).exists()
    batch.flush()
    assert _stored(order) == OrderState.ERRED
    assert Order.objects.get(pk=order.pk).error_message == "disk full"
    assert StateChange.objects.filter(resource=order.resource_id, to_state="Erred").count() == 1


def test_two_transitions_of_one_order_in_a_batch_collapse_into_one_update(order_in):
    order = order_in(OrderState.PENDING_PROVIDER)
    batch = services.StateWriteBatch()
    batch.lock_orders(pk=order.pk)
    services.order_set_state_executing(order=order, actor=None, batch=batch)  # the batch's locked row is used
    services.order_set_state_done(order=order.uuid, actor=None, batch=batch)
    with CaptureQueriesContext(connection) as queries:
        batch.flush()
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert sum(sql.startswith(f'UPDATE "{Order._meta.db_table}"') for sql in updates) == 1
    stored = Order.objects.get(pk=order.pk)
    assert stored.state == OrderState.DONE and stored.provider_reviewed_at and stored.completed_at
    history = StateChange.objects.filter(order=order).order_by("id").values_list("from_state", "to_state")
    assert list(history)[-2:] == [
        (OrderState.PENDING_PROVIDER, OrderState.EXECUTING),
        (OrderState.EXECUTING, OrderState.DONE),
    ]


def test_a_refused_attempt_leaves_the_locked_rows_and_the_batch_as_they_were(order_in):
    order = order_in(OrderState.EXECUTING)
    batch = services.StateWriteBatch()
    locked = batch.lock_orders(pk=order.pk)[str(order.uuid)]
    with pytest.raises(InvalidTransition), batch.attempt(locked):
        locked.error_message = "half-way"
        locked.resource.backend_id = "half-way"
        services.order_set_state_executing(order=locked, actor=None, batch=batch)
    assert (locked.state, locked.error_message, locked.resource.backend_id) == (OrderState.EXECUTING, "", "")
    with CaptureQueriesContext(connection) as queries:
        batch.flush()
    assert not [q for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert _stored(order) == OrderState.EXECUTING
