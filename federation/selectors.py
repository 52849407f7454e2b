"""Reads of the structure domain that join or filter across models; views and portal pages call these."""

from django.db.models import BooleanField, Case, Exists, OuterRef, Q, QuerySet, Value, When

from .models import Customer, Project, RoleGrant, User
from .permissions import sees_everything


def role_grants_visible_to(viewer, *, scope: Customer | Project, scope_seen: bool = False) -> QuerySet[RoleGrant]:
    """The active grants on `scope` of the people `viewer` may see (`User.objects.visible_to`).

    A grant of someone the viewer may not see is left out, so a scope's member list never shows
    more people than /api/users/ does. Each row carries `created_by_visible`, telling whether the
    viewer may see who made the grant.

    `scope_seen`: the caller found the scope through `visible_to(viewer)`. For a project that settles the
    rule's first part for every grant on it (the holders of a role on a project one sees are visible), and
    the query is built without the whole rule for them, which costs more to compose than to run.
    """
    scope_field = "customer" if isinstance(scope, Customer) else "project"
    grants = RoleGrant.objects.active().filter(**{scope_field: scope}).select_related("user", "role", "created_by")
    if sees_everything(viewer):
        return grants.annotate(created_by_visible=Value(True))
    visible = User.objects.visible_to(viewer)
    if scope_seen and scope_field == "project":
        return grants.annotate(created_by_visible=_made_by_visible(viewer, visible, grants.values("user_id")))
    # Everyone holding a role on a project the viewer sees, or on a customer where the viewer holds a customer
    # role, is visible by that part of the rule alone; so is a grant's maker who holds a role there (or is the
    # viewer). Asked first, these spare PostgreSQL the whole rule (every order and state change the viewer
    # sees), which it would otherwise work out for every row: the same answer, the cost of a few index reads.
    if scope_field == "project":
        seen_scopes = Project.objects.visible_to(viewer).values("id")
    else:
        seen_scopes = RoleGrant.objects.active().filter(user=viewer, customer__isnull=False).values("customer_id")
    in_seen_scope = Q(**{f"{scope_field}_id__in": seen_scopes})
    holders = RoleGrant.objects.active().filter(**{scope_field: scope}).values("user_id")
    return grants.filter(in_seen_scope | Q(user__in=visible)).annotate(
        created_by_visible=_made_by_visible(viewer, visible, holders, in_seen_scope)
    )


def _made_by_visible(viewer, visible, holders, in_seen_scope=None) -> Case:
    """Whether the viewer may see who made a grant: nobody made it; the viewer did; a holder of a role on
    the scope did, where the scope is one the viewer sees (`in_seen_scope`: None when every row's is);
    else as the whole rule says."""
    by_holder = Q(created_by_id__in=holders) if in_seen_scope is None else in_seen_scope & Q(created_by_id__in=holders)
    return Case(
        When(created_by__isnull=True, then=Value(False)),
        When(Q(created_by_id=viewer.id) | by_holder, then=Value(True)),
        default=Exists(visible.filter(pk=OuterRef("created_by_id"))),
        output_field=BooleanField(),
    )
