"""The messages of the provider protocol as dataclasses.

`from_dict` validates a decoded JSON value and raises ProtocolError naming the offending field by
its path (`items[2].resource.uuid`); `to_dict` gives the JSON-ready form. Sequences are tuples.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

ORDER_TYPES = ("create", "update", "terminate")
ORDER_STATES = ("accepted", "executing", "done", "erred")
UPDATE_STATES = ("executing", "done", "erred")
MEMBERSHIP_ACTIONS = ("add", "remove")
MAX_BATCH_ITEMS = 1000
MAX_LIST_ITEMS = 10000
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])-01$")


class ProtocolError(ValueError):
    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason

    def to_dict(self) -> dict:
        return {"field": self.field, "reason": self.reason}


class _Reader:
    """Reads the fields of one JSON object, naming each field by its full path in errors."""

    def __init__(self, data: Any, path: str = ""):
        if not isinstance(data, dict):
            raise ProtocolError(path or "body", "must be an object")
        self.data = data
        self.path = path

    def name(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def raw(self, key: str, default: Any = dataclasses.MISSING) -> Any:
        if key in self.data:
            return self.data[key]
        if default is dataclasses.MISSING:
            raise ProtocolError(self.name(key), "is required")
        return default

    def str(self, key: str, *, empty: bool = False, default: Any = dataclasses.MISSING, max_length=255):
        value = self.raw(key, default)
        if value is None and default is None:
            return None
        if not isinstance(value, str):
            raise ProtocolError(self.name(key), "must be a string")
        if not empty and not value.strip():
            raise ProtocolError(self.name(key), "must not be empty")
        if len(value) > max_length:
            raise ProtocolError(self.name(key), f"must be at most {max_length} characters")
        return value

    def uuid(self, key: str) -> str:
        value = self.str(key, max_length=36)
        try:
            uuid.UUID(value)
        except ValueError:
            raise ProtocolError(self.name(key), "must be a UUID") from None
        return value

    def choice(self, key: str, choices: tuple[str, ...]) -> str:
        value = self.raw(key)
        if value not in choices:
            raise ProtocolError(self.name(key), f"must be one of {', '.join(choices)}")
        return value

    def bool(self, key: str, default: Any = dataclasses.MISSING) -> bool:
        value = self.raw(key, default)
        if not isinstance(value, bool):
            raise ProtocolError(self.name(key), "must be true or false")
        return value

    def int(self, key: str, *, minimum: int = 0, default: Any = dataclasses.MISSING) -> int:
        value = self.raw(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise ProtocolError(self.name(key), f"must be an integer >= {minimum}")
        return value

    def object(self, key: str, default: Any = dataclasses.MISSING) -> dict:
        value = self.raw(key, default)
        if not isinstance(value, dict):
            raise ProtocolError(self.name(key), "must be an object")
        return value

    def limits(self, key: str, default: Any = dataclasses.MISSING) -> dict[str, int]:
        value = self.object(key, default)
        for component, amount in value.items():
            if not component or not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
                raise ProtocolError(f"{self.name(key)}.{component}", "must be an integer >= 0")
        return dict(value)

    def list(self, key: str, parse, *, default: Any = dataclasses.MISSING, max_items=MAX_LIST_ITEMS) -> tuple:
        value = self.raw(key, default)
        if not isinstance(value, list):
            raise ProtocolError(self.name(key), "must be a list")
        if len(value) > max_items:
            raise ProtocolError(self.name(key), f"must have at most {max_items} entries")
        return tuple(parse(item, f"{self.name(key)}[{i}]") for i, item in enumerate(value))

    def nested(self, key: str, cls, *, nullable: bool = False):
        value = self.raw(key, None if nullable else dataclasses.MISSING)
        if value is None and nullable:
            return None
        return cls.from_dict(value, self.name(key))


class Message:
    def to_dict(self) -> dict:
        """The JSON shape: nested messages as objects, sequences as lists."""
        return _plain(dataclasses.asdict(self))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _uuid_item(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise ProtocolError(path, "must be a UUID")
    try:
        uuid.UUID(value)
    except ValueError:
        raise ProtocolError(path, "must be a UUID") from None
    return value


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
            backend_id=r.str("backend_id", empty=True, default=""),
            error_message=r.str("error_message", empty=True, default="", max_length=10000),
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
    order_uuid: str
    accepted: bool
    detail: str = ""

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> UpdateResult:
        r = _Reader(data, path)
        return cls(
            order_uuid=r.uuid("order_uuid"),
            accepted=r.bool("accepted"),
            detail=r.str("detail", empty=True, default="", max_length=10000),
        )


@dataclasses.dataclass(frozen=True)
class UpdateResults(Message):
    results: tuple[UpdateResult, ...]

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> UpdateResults:
        return cls(results=_Reader(data, path).list("results", UpdateResult.from_dict))


# --- usage ------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class UsageRecord(Message):
    cursor: int
    resource_uuid: str
    backend_id: str
    component_type: str
    billing_month: str
    amount: str
    username: str = ""

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> UsageRecord:
        r = _Reader(data, path)
        month = r.str("billing_month", max_length=10)
        if not _MONTH.match(month):
            raise ProtocolError(r.name("billing_month"), "must be the first day of a month, YYYY-MM-01")
        amount = r.str("amount", max_length=64)
        try:
            number = Decimal(amount)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite() or number < 0:
            raise ProtocolError(r.name("amount"), "must be a non-negative decimal string")
        return cls(
            cursor=r.int("cursor", minimum=1),
            resource_uuid=r.uuid("resource_uuid"),
            backend_id=r.str("backend_id", empty=True),
            component_type=r.str("component_type"),
            billing_month=month,
            amount=amount,
            username=r.str("username", empty=True, default="", max_length=64),
        )


@dataclasses.dataclass(frozen=True)
class UsagePage(Message):
    records: tuple[UsageRecord, ...]
    next_cursor: int

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> UsagePage:
        r = _Reader(data, path)
        return cls(records=r.list("records", UsageRecord.from_dict), next_cursor=r.int("next_cursor"))


# --- verify -----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ResourceRef(Message):
    resource_uuid: str
    backend_id: str = ""

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> ResourceRef:
        r = _Reader(data, path)
        backend_id = r.str("backend_id", empty=True, default="")
        return cls(resource_uuid=r.uuid("resource_uuid"), backend_id=backend_id)


@dataclasses.dataclass(frozen=True)
class VerifyRequest(Message):
    resources: tuple[ResourceRef, ...]

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> VerifyRequest:
        return cls(resources=_Reader(data, path).list("resources", ResourceRef.from_dict))


@dataclasses.dataclass(frozen=True)
class VerifyResult(Message):
    unknown_to_provider: tuple[str, ...]
    unknown_to_orchestrator: tuple[ResourceRef, ...]

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> VerifyResult:
        r = _Reader(data, path)
        return cls(
            unknown_to_provider=r.list("unknown_to_provider", _uuid_item),
            unknown_to_orchestrator=r.list("unknown_to_orchestrator", ResourceRef.from_dict),
        )


# --- memberships and connections --------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class MembershipChange(Message):
    change_id: str
    project_uuid: str
    user_uuid: str
    username: str | None
    role: str
    action: str

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> MembershipChange:
        r = _Reader(data, path)
        return cls(
            change_id=r.str("change_id", max_length=64),
            project_uuid=r.uuid("project_uuid"),
            user_uuid=r.uuid("user_uuid"),
            username=r.str("username", default=None, max_length=64),
            role=r.str("role", empty=True, default="", max_length=64),
            action=r.choice("action", MEMBERSHIP_ACTIONS),
        )


@dataclasses.dataclass(frozen=True)
class MembershipChanges(Message):
    changes: tuple[MembershipChange, ...]

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> MembershipChanges:
        return cls(changes=_Reader(data, path).list("changes", MembershipChange.from_dict))


@dataclasses.dataclass(frozen=True)
class ConnectionRequest(Message):
    connection_id: str
    user_uuid: str
    email: str = ""
    full_name: str = ""

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> ConnectionRequest:
        r = _Reader(data, path)
        return cls(
            connection_id=r.str("connection_id", max_length=64),
            user_uuid=r.uuid("user_uuid"),
            email=r.str("email", empty=True, default=""),
            full_name=r.str("full_name", empty=True, default=""),
        )


@dataclasses.dataclass(frozen=True)
class ConnectionRedirect(Message):
    redirect_url: str

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> ConnectionRedirect:
        return cls(redirect_url=_Reader(data, path).str("redirect_url", max_length=2000))


@dataclasses.dataclass(frozen=True)
class ConnectionComplete(Message):
    connection_id: str
    user_uuid: str
    username: str

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> ConnectionComplete:
        r = _Reader(data, path)
        return cls(
            connection_id=r.str("connection_id", max_length=64),
            user_uuid=r.uuid("user_uuid"),
            username=r.str("username", max_length=64),
        )


# --- manifest ---------------------------------------------------------------------------------

_COMPUTE_FLAGS = ("enabled", "web", "vnc", "batch", "logs")


def _flags(value: Any, path: str, names: tuple[str, ...]) -> dict[str, bool]:
    if value is None:
        value = {}
    r = _Reader(value, path)
    return {name: r.bool(name, False) for name in names}


@dataclasses.dataclass(frozen=True)
class Manifest(Message):
    """What a provider can do; a feature the provider does not mention is off."""

    provider_id: str
    features: dict
    components: tuple[str, ...] = ()
    offering_types: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> Manifest:
        r = _Reader(data, path)
        f = _Reader(r.raw("features", {}) or {}, r.name("features"))
        compute = _Reader(f.raw("compute", {}) or {}, f.name("compute"))
        features = {
            "compute": {
                kind: _flags(compute.raw(kind, None), compute.name(kind), _COMPUTE_FLAGS)
                for kind in ("docker", "virtualMachine")
            },
            "storage": _flags(f.raw("storage", None), f.name("storage"), ("enabled", "shares", "projects")),
            "blockDevices": _flags(f.raw("blockDevices", None), f.name("blockDevices"), ("enabled",)),
            "ipAddresses": _flags(f.raw("ipAddresses", None), f.name("ipAddresses"), ("enabled",)),
        }

        def name(value: Any, item_path: str) -> str:
            if not isinstance(value, str) or not value:
                raise ProtocolError(item_path, "must be a non-empty string")
            return value

        return cls(
            provider_id=r.str("provider_id", max_length=64),
            features=features,
            components=r.list("components", name, default=[]),
            offering_types=r.list("offering_types", name, default=[]),
        )
