"""What we tell providers about orders, memberships and pauses, in the protocol's shapes."""

from __future__ import annotations

from federation.models import RoleGrant
from federation.models.roles import PROJECT_ROLES
from marketplace.models import OrderType

from .models import Provider, UserConnection

ORDER_TYPES = {OrderType.CREATE: "create", OrderType.UPDATE: "update", OrderType.TERMINATE: "terminate"}


def local_usernames(provider: Provider, user_ids) -> dict[int, str]:
    connections = UserConnection.objects.filter(
        provider=provider, state=UserConnection.State.CONNECTED, user_id__in=list(user_ids)
    )
    return dict(connections.values_list("user_id", "username"))


def project_payload(project, provider: Provider) -> dict:
    grants = list(
        RoleGrant.objects.active().filter(project=project, role__name__in=PROJECT_ROLES).select_related("user", "role")
    )
    usernames = local_usernames(provider, {g.user_id for g in grants})
    customer = project.customer
    return {
        "uuid": str(project.uuid),
        "name": project.name,
        "slug": project.slug,
        "customer_uuid": str(customer.uuid),
        "customer_name": customer.name,
        "customer_slug": customer.slug,
        "members": [
            {"user_uuid": str(g.user.uuid), "username": usernames.get(g.user_id), "role": g.role.name} for g in grants
        ],
    }


def order_item(order, provider: Provider) -> dict:
    resource = order.resource
    plan = order.plan or resource.plan
    return {
        "order_uuid": str(order.uuid),
        "type": ORDER_TYPES[order.type],
        "resource": {
            "uuid": str(resource.uuid),
            "name": resource.name,
            "slug": resource.slug,
            "backend_id": resource.backend_id or "",
            "offering_uuid": str(resource.offering.uuid),
            "offering_type": resource.offering.type,
            "plan": {"uuid": str(plan.uuid), "name": plan.name} if plan else None,
            "limits": resource.limits or {},
            "attributes": resource.attributes or {},
        },
        "project": project_payload(resource.project, provider),
        "limits": (order.limits or {}) if order.type == OrderType.UPDATE else (resource.limits or {}),
        "attributes": order.attributes or {},
    }


def membership_change(grant: RoleGrant, action: str, username: str | None) -> dict:
    return {
        "change_id": f"{grant.uuid.hex}-{action}",
        "project_uuid": str(grant.project.uuid),
        "user_uuid": str(grant.user.uuid),
        "username": username,
        "role": grant.role.name,
        "action": action,
    }


def pause_change(resource, *, paused: bool, sequence: int, reason: str) -> dict:
    """A pause (or resume) of the resource; `sequence` only grows for a resource (see protocol.messages.pausing)."""
    return {
        "change_id": f"{resource.uuid.hex}-{sequence}",
        "resource_uuid": str(resource.uuid),
        "backend_id": resource.backend_id or "",
        "sequence": sequence,
        "paused": paused,
        "reason": reason[:500],
    }
