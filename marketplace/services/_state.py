"""State writes with their history row; every order and resource state change goes through here.

Normally each write goes to the database at once. Inside `batched_state_writes()` (used where a
provider reports on many orders in one request) the same services run unchanged, but their row
updates and history rows are collected and written in bulk when the block ends; `batch.attempt()`
around one service call discards that call's writes if it raises, so a refused update changes
nothing while the rest of the batch goes on.
"""

from __future__ import annotations

import contextlib
from contextvars import ContextVar

from django.utils import timezone

from marketplace.models import Order, Resource, StateChange


class StateBatch:
    def __init__(self):
        self.ops: list[tuple] = []  # ("save", obj, fields) or ("history", StateChange)
        self.locked: dict[int, Order] = {}  # orders locked ahead, each handed out once

    def lock_orders(self, order_ids) -> None:
        """Lock the batch's orders and their resources in two queries instead of two per order."""
        orders = list(
            Order.objects.select_for_update(of=("self",))
            .select_related(*ORDER_LOCK_RELATED)
            .filter(pk__in=list(order_ids))
            .order_by("pk")
        )
        resources = Resource.objects.select_for_update().in_bulk([o.resource_id for o in orders if o.resource_id])
        for order in orders:
            if order.resource_id is not None:
                order.resource = resources[order.resource_id]
            self.locked[order.pk] = order

    def take_locked(self, pk: int) -> Order | None:
        return self.locked.pop(pk, None)

    @contextlib.contextmanager
    def attempt(self):
        mark = len(self.ops)
        try:
            yield
        except Exception:
            del self.ops[mark:]
            raise

    def flush(self) -> None:
        now = timezone.now()
        saves: dict[tuple, dict] = {}
        changes = []
        for op in self.ops:
            if op[0] == "history":
                changes.append(op[1])
                continue
            _, obj, fields = op
            if "modified" in fields:
                obj.modified = now  # bulk_update does not apply auto_now
            saves.setdefault((type(obj), fields), {})[obj.pk] = obj
        for (model, fields), objs in saves.items():
            model.objects.bulk_update(list(objs.values()), list(fields))
        StateChange.objects.bulk_create(changes)
        self.ops.clear()


_batch: ContextVar[StateBatch | None] = ContextVar("marketplace_state_batch", default=None)
ORDER_LOCK_RELATED = ("offering__customer", "project__customer", "plan")


def current_batch() -> StateBatch | None:
    return _batch.get()


@contextlib.contextmanager
def batched_state_writes():
    """Collect the state writes of the services called inside; write them in bulk at the end."""
    batch = StateBatch()
    token = _batch.set(batch)
    try:
        yield batch
        batch.flush()
    finally:
        _batch.reset(token)


def _save(obj, fields: tuple[str, ...]) -> None:
    batch = _batch.get()
    if batch is None:
        obj.save(update_fields=list(fields))
    else:
        batch.ops.append(("save", obj, tuple(sorted(set(fields)))))


def _history(**values) -> None:
    batch = _batch.get()
    if batch is None:
        StateChange.objects.create(**values)
    else:
        batch.ops.append(("history", StateChange(**values)))


def set_order_state(order: Order, to_state: str, *, actor, message: str = "", fields: tuple[str, ...] = ()) -> None:
    from_state = order.state
    order.state = to_state
    _save(order, ("state", "modified", *fields))
    _history(order=order, actor=actor, from_state=from_state, to_state=to_state, message=message)


def set_resource_state(
    resource: Resource, to_state: str, *, actor, message: str = "", fields: tuple[str, ...] = ()
) -> None:
    from_state = resource.state
    resource.state = to_state
    _save(resource, ("state", "modified", *fields))
    _history(resource=resource, actor=actor, from_state=from_state, to_state=to_state, message=message)


def record_created(subject: Order | Resource, *, actor, message: str = "") -> None:
    field = "order" if isinstance(subject, Order) else "resource"
    StateChange.objects.create(**{field: subject}, actor=actor, from_state="", to_state=subject.state, message=message)
