"""Order processors, keyed by offering type.

When an order enters `executing`, the order services call `get_processor(order.offering.type).submit(order)`
inside the transaction that changes the state, so whatever a processor writes (an outbox row, say) commits
or rolls back together with the state change. A processor must not talk to the network in `submit`.

Other apps fill the registry in their `AppConfig.ready()`:

    from marketplace.processors import register_processor, register_default_processor

    register_processor("Marketplace.Slurm", SlurmProcessor())   # one offering type
    register_default_processor(ProviderProcessor())             # every type without its own processor

Lookup order: the processor registered for the type, then the default processor, then the manual one.

A processor may also carry out pausing: `pause(resource, paused, reason)` is called by `resource_pause` and
`resource_resume` inside their transaction, under the resource's row lock, with the same rule as
`submit` (write an outbox row, never call the network). A processor without `pause` takes the change
as recorded (a person carries it out, as with manual orders).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .models import Order, Resource

MANUAL_TYPE = "manual"


class OrderProcessor(Protocol):
    def submit(self, order: Order) -> None:
        """Start carrying out an order that has just entered `executing`."""


class PausingProcessor(Protocol):
    def pause(self, resource: Resource, paused: bool, reason: str = "") -> None:
        """Hand a pause (`paused=True`) or a resume (`False`) of the locked resource to its site."""


class Capabilities(Protocol):
    """What the site behind an offering can do (a provider's manifest, say)."""

    def feature_enabled(self, path: str) -> bool:
        """Whether a feature such as `compute.virtualMachine.vnc` is switched on."""

    def accounts_for(self, component_type: str) -> bool:
        """Whether usage of this component type can be measured and reported."""


class ManualProcessor:
    """Does nothing: a person completes the order in the admin or through `set_state_done`."""

    def submit(self, order: Order) -> None:
        return None

    def pause(self, resource: Resource, paused: bool, reason: str = "") -> None:
        return None


_processors: dict[str, OrderProcessor] = {}
_default: list[OrderProcessor] = []
MANUAL = ManualProcessor()


def register_processor(offering_type: str, processor: OrderProcessor) -> None:
    _processors[offering_type] = processor


def register_default_processor(processor: OrderProcessor) -> None:
    """Claim every offering type that has no processor of its own (replaces an earlier default)."""
    _default[:] = [processor]


def get_processor(offering_type: str) -> OrderProcessor:
    if offering_type in _processors:
        return _processors[offering_type]
    if _default:
        return _default[0]
    return MANUAL


def capabilities(offering) -> Capabilities | None:
    """The capabilities of the offering's site, or None when nothing restricts it (manual offerings)."""
    describe = getattr(get_processor(offering.type), "capabilities", None)
    return describe(offering) if describe else None


def pause_handler(offering_type: str):
    """The processor's `pause(resource, paused, reason)`, or None when its changes are carried out by hand."""
    return getattr(get_processor(offering_type), "pause", None)


_offering_related: list[str] = []


def register_offering_related(*lookups: str) -> None:
    """Relations that `capabilities()` reads, joined into offering queries so lists stay one query."""
    _offering_related.extend(lookup for lookup in lookups if lookup not in _offering_related)


def offering_related() -> list[str]:
    return list(_offering_related)


register_processor(MANUAL_TYPE, MANUAL)
