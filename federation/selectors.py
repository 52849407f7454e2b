"""Reads of the structure domain that join or filter across models; views and portal pages call these."""

from django.db.models import Exists, OuterRef, QuerySet, Value

from .models import Customer, Project, RoleGrant, User
from .permissions import sees_everything


def role_grants_visible_to(viewer, *, scope: Customer | Project) -> QuerySet[RoleGrant]:
    """The active grants on `scope` of the people `viewer` may see (`User.objects.visible_to`).

    A grant of someone the viewer may not see is left out, so a scope's member list never shows
    more people than /api/users/ does. Each row carries `created_by_visible`, telling whether the
    viewer may see who made the grant.
    """
    scope_field = "customer" if isinstance(scope, Customer) else "project"
    grants = RoleGrant.objects.active().filter(**{scope_field: scope}).select_related("user", "role", "created_by")
    if sees_everything(viewer):
        return grants.annotate(created_by_visible=Value(True))
    visible = User.objects.visible_to(viewer)
    return grants.filter(user__in=visible).annotate(
        created_by_visible=Exists(visible.filter(pk=OuterRef("created_by_id")))
    )
