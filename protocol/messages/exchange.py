"""Usage records, the verify reconciliation, membership changes, user connections and manifests."""

from __future__ import annotations

import dataclasses
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from .base import (
    _MONTH,
    MAX_BACKEND_ID,
    MAX_COMPONENT_TYPE,
    MAX_USAGE_AMOUNT,
    MAX_USERNAME,
    MEMBERSHIP_ACTIONS,
    Message,
    ProtocolError,
    _Reader,
    _uuid_item,
    text_problem,
)

# --- usage ------------------------------------------------------------------------------------

_CANONICAL_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


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
        """The record, or a ProtocolError naming the first field that is wrong.

        Providers send records by the hundred, so a record whose every field is plainly right is
        taken on a short path (`_plain`); anything else goes the whole way, which finds the error.
        """
        return cls._plain(data) or cls._checked(data, path)

    @classmethod
    def _plain(cls, data: Any) -> UsageRecord | None:
        """The record when it is plainly valid (ASCII text, canonical UUID, every type exact), else None.

        It accepts only what `_checked` accepts, and gives the same record (tests compare the two).
        """
        if type(data) is not dict:
            return None
        cursor, amount, month = data.get("cursor"), data.get("amount"), data.get("billing_month")
        resource_uuid, backend_id = data.get("resource_uuid"), data.get("backend_id")
        component_type, username = data.get("component_type"), data.get("username", "")
        if type(cursor) is not int or cursor < 1:
            return None
        texts = (resource_uuid, backend_id, component_type, month, amount, username)
        if any(type(text) is not str or not text.isascii() or "\x00" in text for text in texts):
            return None
        if (
            not _CANONICAL_UUID.fullmatch(resource_uuid)
            or len(backend_id) > MAX_BACKEND_ID
            or not component_type.strip()
            or len(component_type) > MAX_COMPONENT_TYPE
            or len(username) > MAX_USERNAME
            or not _MONTH.fullmatch(month)
            or month.startswith("0000")
            or not amount.strip()
            or len(amount) > 64
        ):
            return None
        try:
            number = Decimal(amount)
        except InvalidOperation:
            return None
        if not number.is_finite() or number < 0 or number >= MAX_USAGE_AMOUNT:
            return None
        return cls(
            cursor=cursor,
            resource_uuid=resource_uuid,
            backend_id=backend_id,
            component_type=component_type,
            billing_month=month,
            amount=amount,
            username=username,
        )

    @classmethod
    def _checked(cls, data: Any, path: str) -> UsageRecord:
        r = _Reader(data, path)
        month = r.str("billing_month", max_length=10)
        if not _MONTH.match(month) or not _is_date(month):
            raise ProtocolError(r.name("billing_month"), "must be the first day of a month, YYYY-MM-01")
        amount = r.str("amount", max_length=64)
        try:
            number = Decimal(amount)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite() or number < 0:
            raise ProtocolError(r.name("amount"), "must be a non-negative decimal string")
        if number >= MAX_USAGE_AMOUNT:
            raise ProtocolError(r.name("amount"), f"must be less than {MAX_USAGE_AMOUNT:f}")
        return cls(
            cursor=r.int("cursor", minimum=1),
            resource_uuid=r.uuid("resource_uuid"),
            backend_id=r.str("backend_id", empty=True, max_length=MAX_BACKEND_ID),
            component_type=r.str("component_type", max_length=MAX_COMPONENT_TYPE),
            billing_month=month,
            amount=amount,
            username=r.str("username", empty=True, default="", max_length=MAX_USERNAME),
        )


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


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


MAX_RETURN_URL = 500


@dataclasses.dataclass(frozen=True)
class ConnectionRequest(Message):
    """Start connecting a user to a local account; `return_url` (optional) is where the provider sends the
    browser back once the account is connected."""

    connection_id: str
    user_uuid: str
    email: str = ""
    full_name: str = ""
    return_url: str = ""

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> ConnectionRequest:
        r = _Reader(data, path)
        return_url = r.str("return_url", empty=True, default="", max_length=MAX_RETURN_URL)
        if return_url and not return_url.startswith(("https://", "http://")):
            raise ProtocolError(r.name("return_url"), "must be an http or https URL")
        return cls(
            connection_id=r.str("connection_id", max_length=64),
            user_uuid=r.uuid("user_uuid"),
            email=r.str("email", empty=True, default=""),
            full_name=r.str("full_name", empty=True, default=""),
            return_url=return_url,
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
            "resources": _flags(f.raw("resources", None), f.name("resources"), ("pause",)),
        }

        def name(value: Any, item_path: str) -> str:
            if not isinstance(value, str) or not value or len(value) > 255:
                raise ProtocolError(item_path, "must be a non-empty string of at most 255 characters")
            problem = text_problem(value)
            if problem:
                raise ProtocolError(item_path, problem)
            return value

        return cls(
            provider_id=r.str("provider_id", max_length=64),
            features=features,
            components=r.list("components", name, default=[]),
            offering_types=r.list("offering_types", name, default=[]),
        )
