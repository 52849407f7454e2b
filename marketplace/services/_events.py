"""The event each order and resource state change records; written beside its history row.

`StateChange` stays the marketplace's own per-row history (the outcome table reads it back to
restore a resource's previous state); the event is the same change told to the rest of the
system. Both are written by the one `set_state`/`record_created` call, in the same transaction,
so the two cannot disagree.
"""

from __future__ import annotations

from events.models import Event
from events.services import event_build
from marketplace.models import Order, OrderState, OrderType, Resource

ORDER_EVENTS = {
    OrderState.PENDING_CONSUMER: "marketplace_order_created",
    OrderState.PENDING_PROVIDER: "marketplace_order_approved",
    OrderState.EXECUTING: "marketplace_order_executing",
    OrderState.DONE: "marketplace_order_completed",
    OrderState.ERRED: "marketplace_order_failed",
    OrderState.REJECTED: "marketplace_order_rejected",
    OrderState.CANCELED: "marketplace_order_canceled",
}

_RESOURCE_PREFIX = {
    OrderType.CREATE: "marketplace_resource_create",
    OrderType.UPDATE: "marketplace_resource_update",
    OrderType.TERMINATE: "marketplace_resource_terminate",
}
_RESOURCE_SUFFIX = {
    OrderState.DONE: "succeeded",
    OrderState.ERRED: "failed",
    OrderState.REJECTED: "canceled",
    OrderState.CANCELED: "canceled",
}

_LIMITS_OUTCOMES = {"succeeded", "failed"}  # a finished update order is told as what it did to the limits


def _resource_event_type(order: Order) -> str:
    """Requested while the order is open; then what the finished order did."""
    suffix = _RESOURCE_SUFFIX.get(order.state, "requested")
    prefix = _RESOURCE_PREFIX[order.type]
    if order.type == OrderType.UPDATE and suffix in _LIMITS_OUTCOMES:
        prefix = "marketplace_resource_update_limits"
    return f"{prefix}_{suffix}"


def _concerns(order: Order, resource: Resource | None) -> dict:
    project = order.project
    return {
        "customer": project.customer.uuid,
        "project": project.uuid,
        "offering": order.offering.uuid,
        "order": order.uuid,
        "resource": resource.uuid if resource is not None else None,
    }


def state_event(
    subject: Order | Resource, from_state: str, *, actor, message: str, order: Order | None, old_limits=None
) -> Event:
    """The event of `subject` entering its current state; a resource's change is told through its order."""
    if isinstance(subject, Order):
        order, resource = subject, subject.resource
        event_type = ORDER_EVENTS[subject.state] if from_state else "marketplace_order_created"
        scope = ("order", order.uuid)
    else:
        if order is None:
            raise ValueError("A resource's state changes through an order; pass order=.")
        resource = subject
        event_type = _resource_event_type(order)
        scope = ("resource", resource.uuid)
    context = {
        "order_type": order.type,
        "from_state": from_state,
        "state": subject.state,
        "offering_name": order.offering.name,
        "resource_name": resource.name if resource is not None else "",
        "project_name": order.project.name,
    }
    if isinstance(subject, Resource):
        context["order_uuid"] = str(order.uuid)
        if event_type == "marketplace_resource_update_limits_succeeded":
            context["old_limits"], context["limits"] = old_limits or {}, subject.limits
    elif subject.state == OrderState.ERRED:
        context["error_message"] = order.error_message
    elif subject.state == OrderState.REJECTED:
        context["reject_reason"] = order.reject_reason
    return event_build(
        event_type, scope=scope, actor=actor, message=message, context=context, **_concerns(order, resource)
    )
