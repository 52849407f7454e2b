"""What a resource's page says before its figures: why it is in error, the change under way, and how to
reach it at the provider (the account there and the person's own username)."""

from __future__ import annotations

import dataclasses

from django.db.models import OuterRef, Subquery

from marketplace.models import OPEN_ORDER_STATES, Order, OrderState, OrderType, Resource, ResourceState
from providers.models import Provider, UserConnection


@dataclasses.dataclass(frozen=True)
class LimitChange:
    name: str
    unit: str
    current: object
    requested: object


@dataclasses.dataclass(frozen=True)
class ResourceStatus:
    error: str  # what the provider reported when the resource went into error ("" when it is not in error)
    error_order: Order | None
    pending: Order | None  # the update or termination under way
    changes: list[LimitChange]  # the limits the pending update asks for, beside the current ones
    provider: Provider | None  # the provider running the offering (None: run by hand)
    username: str  # the person's confirmed username at that provider ("" when not connected)


def resource_status(*, resource: Resource, orders: list[Order], components: list, user) -> ResourceStatus:
    """From the resource's orders (newest first, already read for the page) and one query for the provider
    and the person's connection there."""
    erred, error = None, ""
    if resource.state == ResourceState.ERRED:
        erred = next((o for o in orders if o.state == OrderState.ERRED), None)
        error = (erred.error_message if erred else "") or "The provider reported an error without details."
    pending = next((o for o in orders if o.state in OPEN_ORDER_STATES and o.type != OrderType.CREATE), None)
    changes = []
    if pending is not None and pending.type == OrderType.UPDATE:
        changes = [
            LimitChange(c.name, c.measured_unit, resource.limits.get(c.type), pending.limits[c.type])
            for c in components
            if c.type in pending.limits and pending.limits[c.type] != resource.limits.get(c.type)
        ]
    connected = UserConnection.objects.filter(
        provider=OuterRef("pk"), user_id=user.id, state=UserConnection.State.CONNECTED
    ).values("username")[:1]
    provider = (
        Provider.objects.filter(offering_links__offering_id=resource.offering_id)
        .annotate(username=Subquery(connected))
        .first()
    )
    return ResourceStatus(
        error=error,
        error_order=erred,
        pending=pending,
        changes=changes,
        provider=provider,
        username=(provider.username or "") if provider else "",
    )
