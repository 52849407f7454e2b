"""State writes with their history row; every order and resource state change goes through here."""

from __future__ import annotations

from marketplace.models import Order, Resource, StateChange


def set_order_state(order: Order, to_state: str, *, actor, message: str = "", fields: tuple[str, ...] = ()) -> None:
    from_state = order.state
    order.state = to_state
    order.save(update_fields=["state", "modified", *fields])
    StateChange.objects.create(order=order, actor=actor, from_state=from_state, to_state=to_state, message=message)


def set_resource_state(
    resource: Resource, to_state: str, *, actor, message: str = "", fields: tuple[str, ...] = ()
) -> None:
    from_state = resource.state
    resource.state = to_state
    resource.save(update_fields=["state", "modified", *fields])
    StateChange.objects.create(
        resource=resource, actor=actor, from_state=from_state, to_state=to_state, message=message
    )


def record_created(subject: Order | Resource, *, actor, message: str = "") -> None:
    field = "order" if isinstance(subject, Order) else "resource"
    StateChange.objects.create(**{field: subject}, actor=actor, from_state="", to_state=subject.state, message=message)
