"""What a provider's own software (a Waldur site agent polling our API) reports about a resource.

These are not state transitions: a site agent names the account it created (`backend_id`) and the
limits it enforces there while the create order is executing, before it marks the order done. The
order state machine (state_machine.py) stays the only way a resource changes state.

Each function locks the resource row, checks the actor may act for the offering's provider (the
owners of the provider organisation, and staff — the people who complete its orders), and writes
only what changed, so an agent that repeats a report after a lost answer changes nothing.
"""

from __future__ import annotations

import math

from django.db import transaction

from common.exceptions import PermissionDenied, ValidationFailed
from common.loading import load_row
from federation.models import User
from marketplace.models import Resource, ResourceState
from marketplace.permissions import can_review_as_provider

from .placing import ResourceRef

WHO_MAY_REPORT = "the owners of the provider organisation"
BACKEND_ID_LENGTH = Resource._meta.get_field("backend_id").max_length


def _lock(resource: ResourceRef, actor: User, verb: str) -> Resource:
    rows = Resource.objects.select_for_update(of=("self",)).select_related("offering__customer")
    resource = load_row(rows, resource, missing="Resource not found.")
    if not can_review_as_provider(actor, resource.offering):
        raise PermissionDenied(f"Only {WHO_MAY_REPORT} may {verb} of this resource.")
    return resource


def resource_check_provider(*, resource: Resource, actor: User) -> None:
    """Refuse (403) a report from anyone but the provider's owners, for reports that store nothing."""
    if not can_review_as_provider(actor, resource.offering):
        raise PermissionDenied(f"Only {WHO_MAY_REPORT} may report on this resource.")


@transaction.atomic
def resource_set_backend_id(*, resource: ResourceRef, actor: User, backend_id: str) -> Resource:
    """The provider names its identifier of the resource (a Slurm account, say); a terminated
    resource keeps the one it had."""
    backend_id = (backend_id or "").strip()
    if len(backend_id) > BACKEND_ID_LENGTH:
        raise ValidationFailed(f"Give the backend_id in at most {BACKEND_ID_LENGTH} characters.", field="backend_id")
    resource = _lock(resource, actor, "set the backend_id")
    if resource.state == ResourceState.TERMINATED:
        raise ValidationFailed("The resource is terminated; its backend_id no longer changes.", field="backend_id")
    if resource.backend_id != backend_id:
        resource.backend_id = backend_id
        resource.save(update_fields=["backend_id", "modified"])
    return resource


def _whole(amount) -> bool:
    """A whole, not negative amount that a limit column holds (JSON numbers only; no booleans)."""
    if isinstance(amount, bool) or not isinstance(amount, int | float) or not math.isfinite(amount):
        return False
    return 0 <= amount < 2**63 and amount == int(amount)


@transaction.atomic
def resource_set_limits(*, resource: ResourceRef, actor: User, limits: dict) -> Resource:
    """The provider reports the limits it enforces. Only the offering's limit-billed components are
    kept (a site may know more quantities than we sell); amounts are whole and not negative."""
    resource = _lock(resource, actor, "set the limits")
    known = set(resource.offering.components.filter(billing_type="limit").values_list("type", flat=True))
    cleaned = {}
    for name, amount in limits.items():
        if name not in known:
            continue
        if not _whole(amount):
            raise ValidationFailed("Give each limit as a whole number, not negative.", field=f"limits.{name}")
        cleaned[name] = int(amount)
    merged = {**resource.limits, **cleaned}
    if merged != resource.limits:
        resource.limits = merged
        resource.save(update_fields=["limits", "modified"])
    return resource
