"""State writes with their history row; every order and resource state change goes through here.

How a state write reaches the database: a transition locks its order and the order's resource
(`lock_order`, one query each, `SELECT ... FOR UPDATE`), checks the source state, changes the row
objects and calls `set_state`, which writes the row (`UPDATE` of the
changed columns) and its `StateChange` history row at once, in the transition's transaction.
The one exception is explicit: a caller applying many transitions in one request (a provider
reporting on a batch of orders) creates a `StateWriteBatch`, locks all its orders with it in two
queries, and passes it as `batch=` to each provider-facing transition. Those transitions then work
on the batch's locked rows and leave their writes in the batch; `batch.flush()` writes them
together, one `UPDATE` per changed row (two transitions of the same order collapse into one update
carrying the last values) and one bulk insert of the history rows, in the caller's transaction.
Without a batch nothing is deferred: there is no ambient mode.
"""

from __future__ import annotations

import contextlib
import uuid as uuid_lib
from collections import defaultdict

from django.db.models import Model
from django.utils import timezone

from common.loading import load_row
from events.models import Event
from events.services import events_insert
from marketplace.models import Order, Resource, StateChange

from ._events import state_event

OrderRef = Order | uuid_lib.UUID | str

ORDER_LOCK_RELATED = ("offering__customer", "project__customer", "plan")


def _locking_orders():
    """The one query that locks orders: the order rows only (not the rows joined for reading)."""
    return Order.objects.select_for_update(of=("self",)).select_related(*ORDER_LOCK_RELATED)


def _lock_resources(orders: list[Order]) -> None:
    """Lock the resources of the (already locked) orders in one query and attach them."""
    resource_ids = {order.resource_id for order in orders if order.resource_id is not None}
    if not resource_ids:
        return
    resources = Resource.objects.select_for_update().in_bulk(sorted(resource_ids))
    for order in orders:
        if order.resource_id is not None:
            order.resource = resources[order.resource_id]


def lock_order(order: OrderRef, *, batch: StateWriteBatch | None = None) -> Order:
    """The order row (and its resource row) locked for this transaction.

    Given a batch that already holds the order locked, its row is used as it stands in the batch,
    with the changes of earlier transitions of the same batch.
    """
    if batch is not None:
        held = batch.held(order)
        if held is not None:
            return held
    found = load_row(_locking_orders(), order, missing="Order not found.")
    _lock_resources([found])
    if batch is not None:
        batch.hold([found])
    return found


def _field_values(obj: Model) -> dict:
    return {field.attname: getattr(obj, field.attname) for field in obj._meta.concrete_fields}


class StateWriteBatch:
    """The state writes of many transitions in one transaction, written together by `flush()`.

    Create one per request, lock its orders with `lock_orders()`, pass it as `batch=` to each
    transition, and call `flush()` before the transaction ends. Wrap each transition in
    `attempt(order)`: if it raises, its writes (and its changes to the locked rows) are dropped,
    so a refused transition changes nothing while the others go on.
    """

    def __init__(self):
        self._orders: dict[int, Order] = {}
        self._by_uuid: dict[str, Order] = {}
        self._saves: list[tuple[Model, tuple[str, ...]]] = []
        self._history: list[StateChange] = []
        self._events: list[Event] = []

    def lock_orders(self, **filters) -> dict[str, Order]:
        """Lock the orders matching `filters` and their resources, in two queries; {uuid: order}."""
        orders = list(_locking_orders().filter(**filters).order_by("pk"))
        _lock_resources(orders)
        self.hold(orders)
        return {str(order.uuid): order for order in orders}

    def hold(self, orders: list[Order]) -> None:
        for order in orders:
            self._orders[order.pk] = order
            self._by_uuid[str(order.uuid)] = order

    def held(self, order: OrderRef) -> Order | None:
        if isinstance(order, Order):
            return self._orders.get(order.pk)
        return self._by_uuid.get(str(order))

    def save(self, obj: Model, fields: tuple[str, ...]) -> None:
        self._saves.append((obj, fields))

    def add_history(self, change: StateChange, event: Event) -> None:
        self._history.append(change)
        self._events.append(event)

    @contextlib.contextmanager
    def attempt(self, order: Order | None = None):
        """Run one transition; if it raises, forget its writes and restore the order and resource."""
        saves, history, events = len(self._saves), len(self._history), len(self._events)
        rows = [row for row in (order, order.resource if order is not None else None) if row is not None]
        before = [(row, _field_values(row)) for row in rows]
        try:
            yield
        except Exception:
            del self._saves[saves:], self._history[history:], self._events[events:]
            for row, values in before:
                for name, value in values.items():
                    setattr(row, name, value)
            raise

    def flush(self) -> None:
        """Write what the batch holds: one UPDATE per changed row with all its changed columns, then the
        history and the events (one insert each)."""
        now = timezone.now()
        rows: dict[tuple[type, int], tuple[Model, set[str]]] = {}
        for obj, fields in self._saves:
            rows.setdefault((type(obj), obj.pk), (obj, set()))[1].update(fields)
        groups: dict[tuple[type, tuple[str, ...]], list[Model]] = defaultdict(list)
        for (model, _), (obj, fields) in rows.items():
            if "modified" in fields:
                obj.modified = now  # bulk_update does not apply auto_now
            groups[(model, tuple(sorted(fields)))].append(obj)
        for (model, fields), objs in groups.items():
            model.objects.bulk_update(objs, list(fields))
        StateChange.objects.bulk_create(self._history)
        events_insert(self._events)
        self._saves.clear()
        self._history.clear()
        self._events.clear()


def _save(obj: Model, fields: tuple[str, ...], batch: StateWriteBatch | None) -> None:
    if batch is None:
        obj.save(update_fields=list(dict.fromkeys(fields)))
    else:
        batch.save(obj, fields)


def _history(batch: StateWriteBatch | None, subject: Order | Resource, event: Event, **values) -> None:
    """The history row and the event of one state change, written at once or left in the batch."""
    values["order" if isinstance(subject, Order) else "resource"] = subject
    if batch is None:
        StateChange.objects.create(**values)
        events_insert([event])
    else:
        batch.add_history(StateChange(**values), event)


def set_state(
    subject: Order | Resource,
    to_state: str,
    *,
    actor,
    message: str = "",
    fields: tuple[str, ...] = (),
    batch: StateWriteBatch | None = None,
    order: Order | None = None,
    old_limits: dict | None = None,
) -> None:
    """Move an order or a resource to `to_state`, with its history row and event (at once, or in `batch`).

    A resource moves because of an order: pass it as `order=` (it names the event).
    """
    from_state = subject.state
    subject.state = to_state
    _save(subject, ("state", "modified", *fields), batch)
    event = state_event(subject, from_state, actor=actor, message=message, order=order, old_limits=old_limits)
    _history(batch, subject, event, actor=actor, from_state=from_state, to_state=to_state, message=message)


def record_created(subject: Order | Resource, *, actor, message: str = "", order: Order | None = None) -> None:
    """The first history row and event of a new order or resource (written at once: there is no batch)."""
    event = state_event(subject, "", actor=actor, message=message, order=order)
    _history(None, subject, event, actor=actor, from_state="", to_state=subject.state, message=message)
