"""Order messages: batches pushed to a provider, its acknowledgements and its state updates."""

from __future__ import annotations

import dataclasses
from typing import Any

from .base import (
    MAX_BACKEND_ID,
    MAX_BATCH_ITEMS,
    MAX_ERROR_MESSAGE,
    ORDER_STATES,
    ORDER_TYPES,
    UPDATE_STATES,
    Message,
    ProtocolError,
    _Reader,
)

# --- orders -----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Plan(Message):
    uuid: str
    name: str

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> Plan:
        r = _Reader(data, path)
        return cls(uuid=r.uuid("uuid"), name=r.str("name", empty=True))


@dataclasses.dataclass(frozen=True)
class Resource(Message):
    uuid: str
    name: str
    slug: str
    offering_uuid: str
    offering_type: str
    backend_id: str = ""
    plan: Plan | None = None
    limits: dict = dataclasses.field(default_factory=dict)
    attributes: dict = dataclasses.field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> Resource:
        r = _Reader(data, path)
        return cls(
            uuid=r.uuid("uuid"),
            name=r.str("name"),
            slug=r.str("slug"),
            offering_uuid=r.uuid("offering_uuid"),
            offering_type=r.str("offering_type"),
            backend_id=r.str("backend_id", empty=True, default=""),
            plan=r.nested("plan", Plan, nullable=True),
            limits=r.limits("limits", {}),
            attributes=r.object("attributes", {}),
        )


@dataclasses.dataclass(frozen=True)
class ProjectMember(Message):
    user_uuid: str
    username: str | None
    role: str

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> ProjectMember:
        r = _Reader(data, path)
        return cls(
            user_uuid=r.uuid("user_uuid"),
            username=r.str("username", default=None, max_length=64),
            role=r.str("role", max_length=64),
        )


@dataclasses.dataclass(frozen=True)
class Project(Message):
    uuid: str
    name: str
    slug: str
    customer_uuid: str
    customer_name: str
    customer_slug: str
    members: tuple[ProjectMember, ...] = ()

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> Project:
        r = _Reader(data, path)
        return cls(
            uuid=r.uuid("uuid"),
            name=r.str("name"),
            slug=r.str("slug"),
            customer_uuid=r.uuid("customer_uuid"),
            customer_name=r.str("customer_name"),
            customer_slug=r.str("customer_slug"),
            members=r.list("members", ProjectMember.from_dict, default=[]),
        )


@dataclasses.dataclass(frozen=True)
class OrderItem(Message):
    order_uuid: str
    type: str
    resource: Resource
    project: Project
    limits: dict = dataclasses.field(default_factory=dict)
    attributes: dict = dataclasses.field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> OrderItem:
        r = _Reader(data, path)
        order_type = r.choice("type", ORDER_TYPES)
        return cls(
            order_uuid=r.uuid("order_uuid"),
            type=order_type,
            resource=r.nested("resource", Resource),
            project=r.nested("project", Project),
            # An update says which limits it wants; the other types may leave them out.
            limits=r.limits("limits") if order_type == "update" else r.limits("limits", {}),
            attributes=r.object("attributes", {}),
        )


@dataclasses.dataclass(frozen=True)
class OrderBatch(Message):
    batch_id: str
    items: tuple[OrderItem, ...]

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> OrderBatch:
        r = _Reader(data, path)
        batch_id = r.uuid("batch_id")
        items = r.list("items", OrderItem.from_dict, max_items=MAX_BATCH_ITEMS)
        if not items:
            raise ProtocolError(r.name("items"), "must not be empty")
        return cls(batch_id=batch_id, items=items)


@dataclasses.dataclass(frozen=True)
class OrderAck(Message):
    order_uuid: str
    accepted: bool
    backend_id: str = ""

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> OrderAck:
        r = _Reader(data, path)
        return cls(
            order_uuid=r.uuid("order_uuid"),
            accepted=r.bool("accepted"),
            backend_id=r.str("backend_id", empty=True, default=""),
        )


@dataclasses.dataclass(frozen=True)
class BatchAck(Message):
    batch_id: str
    items: tuple[OrderAck, ...]

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> BatchAck:
        r = _Reader(data, path)
        return cls(batch_id=r.uuid("batch_id"), items=r.list("items", OrderAck.from_dict))


@dataclasses.dataclass(frozen=True)
class OrderStatus(Message):
    """One order's state: an update sent to the orchestrator, or the answer to GET /orders/<uuid>."""

    order_uuid: str
    state: str
    backend_id: str = ""
    error_message: str = ""

    @classmethod
    def from_dict(cls, data: Any, path: str = "", states: tuple[str, ...] = ORDER_STATES) -> OrderStatus:
        r = _Reader(data, path)
        return cls(
            order_uuid=r.uuid("order_uuid"),
            state=r.choice("state", states),
            backend_id=r.str("backend_id", empty=True, default="", max_length=MAX_BACKEND_ID),
            error_message=r.str("error_message", empty=True, default="", max_length=MAX_ERROR_MESSAGE),
        )


@dataclasses.dataclass(frozen=True)
class OrderUpdates(Message):
    updates: tuple[OrderStatus, ...]

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> OrderUpdates:
        r = _Reader(data, path)
        return cls(updates=r.list("updates", lambda d, p: OrderStatus.from_dict(d, p, UPDATE_STATES)))


@dataclasses.dataclass(frozen=True)
class UpdateResult(Message):
    """The answer to one update: `retry` is true when a refusal is passing and the update may be sent again."""

    order_uuid: str | None
    accepted: bool
    detail: str = ""
    retry: bool = False

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> UpdateResult:
        r = _Reader(data, path)
        return cls(
            order_uuid=r.uuid("order_uuid") if r.raw("order_uuid", None) is not None else None,
            accepted=r.bool("accepted"),
            detail=r.str("detail", empty=True, default="", max_length=MAX_ERROR_MESSAGE),
            retry=r.bool("retry", False),
        )


@dataclasses.dataclass(frozen=True)
class UpdateResults(Message):
    results: tuple[UpdateResult, ...]

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> UpdateResults:
        return cls(results=_Reader(data, path).list("results", UpdateResult.from_dict))
