"""What a finished order does to its resource. The table below is the only place this is decided."""

from __future__ import annotations

from dataclasses import dataclass

from marketplace.models import Order, OrderState, OrderType, ResourceState, StateChange

from ._state import StateWriteBatch, set_state

PREVIOUS = "previous"  # the state the resource had before the order moved it


@dataclass(frozen=True)
class Outcome:
    resource_state: str
    take_order: bool = False  # the resource takes the order's limits and plan
    take_backend_id: bool = False  # the resource takes the backend_id the provider reported


OUTCOMES: dict[tuple[str, str], Outcome] = {
    (OrderType.CREATE, OrderState.DONE): Outcome(ResourceState.OK, take_backend_id=True),
    (OrderType.CREATE, OrderState.ERRED): Outcome(ResourceState.ERRED),
    (OrderType.CREATE, OrderState.REJECTED): Outcome(ResourceState.TERMINATED),
    (OrderType.CREATE, OrderState.CANCELED): Outcome(ResourceState.TERMINATED),
    (OrderType.UPDATE, OrderState.DONE): Outcome(ResourceState.OK, take_order=True),
    (OrderType.UPDATE, OrderState.ERRED): Outcome(ResourceState.OK),
    (OrderType.UPDATE, OrderState.REJECTED): Outcome(PREVIOUS),
    (OrderType.UPDATE, OrderState.CANCELED): Outcome(PREVIOUS),
    (OrderType.TERMINATE, OrderState.DONE): Outcome(ResourceState.TERMINATED),
    (OrderType.TERMINATE, OrderState.ERRED): Outcome(ResourceState.OK),
    (OrderType.TERMINATE, OrderState.REJECTED): Outcome(PREVIOUS),
    (OrderType.TERMINATE, OrderState.CANCELED): Outcome(PREVIOUS),
}

# What an open order of each type does to its resource when it is created.
RESOURCE_STATE_WHILE_OPEN = {
    OrderType.CREATE: ResourceState.CREATING,
    OrderType.UPDATE: ResourceState.UPDATING,
    OrderType.TERMINATE: ResourceState.TERMINATING,
}


def _previous_state(order: Order) -> str:
    """The resource's state just before this order put it into updating / terminating."""
    change = (
        StateChange.objects.filter(resource_id=order.resource_id, created__gte=order.created)
        .exclude(from_state="")
        .order_by("created", "id")
        .first()
    )
    return change.from_state if change else ResourceState.OK


def apply_outcome(order: Order, *, actor, backend_id: str = "", batch: StateWriteBatch | None = None) -> None:
    """Apply the finished order to its (already locked) resource, as the table says.

    The previous state is read from the history in the database, so an outcome that restores it
    (a rejected or canceled update or termination) is never applied with a batch holding unwritten history.
    """
    resource = order.resource
    if resource is None:
        return
    outcome = OUTCOMES[(order.type, order.state)]
    to_state = _previous_state(order) if outcome.resource_state == PREVIOUS else outcome.resource_state
    fields = []
    old_limits = resource.limits
    if outcome.take_order:
        resource.limits = order.limits
        resource.plan_id = order.plan_id
        fields += ["limits", "plan"]
    if outcome.take_backend_id and backend_id:
        resource.backend_id = backend_id
        fields.append("backend_id")
    message = f"{order.type} order {order.uuid} {order.state}."
    set_state(
        resource,
        to_state,
        actor=actor,
        message=message,
        fields=tuple(fields),
        batch=batch,
        order=order,
        old_limits=old_limits,
    )
