"""The one small interface every site-agent backend implements.

A backend turns allocations into something real at the site (a Slurm account, a row in a local
store, ...) and reads usage back. The agent calls it from its worker thread, one order at a time;
every method must be idempotent: calling it twice with the same input leaves the site as one call
would, and returns the same result.
"""

from __future__ import annotations

import abc
import dataclasses
from datetime import date


class BackendError(Exception):
    """The site refused the operation; the message is shown to the orchestrator as the order's error."""


@dataclasses.dataclass(frozen=True)
class Member:
    username: str  # the provider-local username
    role: str  # PROJECT.ADMIN, PROJECT.MANAGER or PROJECT.MEMBER


@dataclasses.dataclass(frozen=True)
class Allocation:
    resource_uuid: str
    slug: str  # lower-case, safe name derived from the resource name
    customer_uuid: str
    customer_slug: str
    project_uuid: str
    project_slug: str
    offering_type: str
    limits: dict[str, int]  # component type -> amount, in the offering's units
    attributes: dict
    members: tuple[Member, ...] = ()
    backend_id: str = ""


@dataclasses.dataclass(frozen=True)
class UsageReport:
    component_type: str
    amount: float  # cumulative for the billing month, in the component's unit
    username: str = ""  # empty for the allocation as a whole


class Backend(abc.ABC):
    name: str = ""

    def __init__(self, config: dict):
        self.config = config

    @abc.abstractmethod
    def describe_manifest(self) -> dict:
        """The features and component types this site can run and account for."""

    @abc.abstractmethod
    def create(self, allocation: Allocation) -> str:
        """Create the allocation; return its backend_id."""

    @abc.abstractmethod
    def update_limits(self, allocation: Allocation, limits: dict[str, int]) -> None: ...

    @abc.abstractmethod
    def terminate(self, allocation: Allocation) -> None: ...

    @abc.abstractmethod
    def add_user(self, allocation: Allocation, username: str) -> None: ...

    @abc.abstractmethod
    def remove_user(self, allocation: Allocation, username: str) -> None: ...

    @property
    def can_pause(self) -> bool:
        """Whether `pause` and `resume` work here; the agent advertises `resources.pause` only then."""
        cls = type(self)
        return cls.pause is not Backend.pause and cls.resume is not Backend.resume

    def pause(self, allocation: Allocation) -> None:
        """Stop new work of the allocation, keeping its data (idempotent, like every method)."""
        raise BackendError(f"{self.name} backend cannot pause allocations")

    def resume(self, allocation: Allocation) -> None:
        raise BackendError(f"{self.name} backend cannot resume allocations")

    @abc.abstractmethod
    def report_usage(self, allocation: Allocation, month: date) -> list[UsageReport]:
        """Cumulative usage of the allocation in the billing month starting at `month`."""
