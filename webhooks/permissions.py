"""Who may subscribe a hook to an object's events, and who may change a hook.

A customer's owners subscribe to the customer and anything under it (its projects, their orders and
resources, the customer's offerings); a project's managers to the project and its orders and
resources; staff to anything, or to every event. Always only to an object the person can see, by
the event log's one rule (`events.scopes.scope_visible`). The rule is checked when the hook is made
and again for every batch of events it would receive: a creator who lost the role gets nothing.
"""

from __future__ import annotations

from django.db.models import Q

from common.exceptions import DomainError, PermissionDenied, ValidationFailed
from events.scopes import scope_visible
from federation.models import Customer, Project, RoleGrant, RoleName
from federation.permissions import is_operator, may_write
from marketplace.models import Offering, Order, Resource

# scope type → how to read (customer id, project id) of the object from its uuid
_OWNERS = {
    "customer": (Customer, "id", None),
    "project": (Project, "customer_id", "id"),
    "order": (Order, "project__customer_id", "project_id"),
    "resource": (Resource, "project__customer_id", "project_id"),
    "offering": (Offering, "customer_id", None),
}


def _owners(scope_type: str, scope_uuid) -> tuple[int | None, int | None]:
    """The customer and project (ids) whose owners and managers may subscribe to the object."""
    if scope_type not in _OWNERS:
        return None, None  # providers: staff only
    model, customer_path, project_path = _OWNERS[scope_type]
    columns = [customer_path] + ([project_path] if project_path else [])
    row = model.objects.filter(uuid=scope_uuid).values_list(*columns).first()
    if row is None:
        return None, None
    return row[0], (row[1] if project_path else None)


def _holds_role(user, *, customer_id: int | None, project_id: int | None) -> bool:
    wanted = Q(pk__in=[])
    if customer_id is not None:
        wanted |= Q(customer_id=customer_id, role__name=RoleName.CUSTOMER_OWNER)
    if project_id is not None:
        wanted |= Q(project_id=project_id, role__name=RoleName.PROJECT_MANAGER)
    return RoleGrant.objects.active().filter(wanted, user=user).exists()


def check_may_subscribe(user, *, scope_type: str, scope_uuid) -> None:
    """Raise unless the user may subscribe a hook to the object (see the module's rule)."""
    if not may_write(user):
        raise PermissionDenied("This account may not subscribe hooks.")
    if not scope_type:
        if is_operator(user):
            return
        raise ValidationFailed(
            "Name the object whose events the hook receives (scope_type and scope_uuid); "
            "only staff may subscribe to every event.",
            field="scope_type",
        )
    if not scope_visible(user, scope_type, scope_uuid):
        raise ValidationFailed(f"No {scope_type} with this uuid is visible to you.", field="scope_uuid")
    if is_operator(user):
        return
    customer_id, project_id = _owners(scope_type, scope_uuid)
    if not _holds_role(user, customer_id=customer_id, project_id=project_id):
        raise PermissionDenied(
            f"Only the owners of the organisation, the managers of the project and staff may subscribe to this "
            f"{scope_type}'s events."
        )


def may_subscribe(user, *, scope_type: str, scope_uuid) -> bool:
    try:
        check_may_subscribe(user, scope_type=scope_type, scope_uuid=scope_uuid)
    except DomainError:
        return False
    return True


def can_manage_hook(user, hook) -> bool:
    """The hook's creator and staff change, enable and delete it (support only reads)."""
    return may_write(user) and (hook.created_by_id == user.id or is_operator(user))
