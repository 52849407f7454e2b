"""Who may do what on customers and projects. Services call these; views never decide by hand.

Three global flags, each for one thing: `is_staff` may change anything; `is_support` may read
everything and change nothing (a support account is read-only, even where it also holds a role);
`is_identity_manager` may look people up by their community identity (CUID). Every write check
below starts from `may_write`, so a read-only account is refused by all of them.
"""

from django.db.models import Q

from common.querysets import reads_everything

from .models import Customer, Project, RoleGrant, RoleName
from .models.roles import CUSTOMER_ROLES, PROJECT_ROLES


def role_names(user, *, customer: Customer | None = None, project: Project | None = None) -> set[str]:
    """Names of the user's active roles on the customer and/or project (one query)."""
    if not user.is_authenticated:
        return set()
    grants = RoleGrant.objects.active().filter(user=user)
    if customer is not None and project is not None:
        grants = grants.filter(Q(customer=customer) | Q(project=project))
    elif customer is not None:
        grants = grants.filter(customer=customer)
    else:
        grants = grants.filter(project=project)
    return set(grants.values_list("role__name", flat=True))


def sees_everything(user) -> bool:
    """Staff and global support read every customer, project, person, order, resource and provider.

    The same rule as every model's `visible_to` (common.querysets), so a check and a list never disagree.
    """
    return reads_everything(user)


def may_write(user) -> bool:
    """Whether the account may change anything at all: global support accounts are read-only."""
    return user.is_authenticated and user.is_active and (user.is_staff or not user.is_support)


def is_operator(user) -> bool:
    """Staff: the one global flag that may change anything anywhere (support only reads)."""
    return user.is_authenticated and user.is_active and user.is_staff


def can_look_up_identities(user) -> bool:
    """Staff and identity managers map community identities (CUIDs) to local users, creating them."""
    return user.is_authenticated and user.is_active and (user.is_staff or user.is_identity_manager)


def can_manage_customer(user, customer: Customer) -> bool:
    if not may_write(user):
        return False
    return is_operator(user) or RoleName.CUSTOMER_OWNER in role_names(user, customer=customer)


def can_manage_project(user, project: Project) -> bool:
    if not may_write(user):
        return False
    if is_operator(user):
        return True
    roles = role_names(user, customer=project.customer, project=project)
    return bool(roles & {RoleName.CUSTOMER_OWNER, RoleName.PROJECT_MANAGER})


def grantable_roles(user, *, scope) -> frozenset[str]:
    """The roles `user` may grant and revoke on `scope` (one query): owners and staff any role of the scope's
    kind, project managers the project's admin and member roles, everyone else none."""
    kind_roles = CUSTOMER_ROLES if isinstance(scope, Customer) else PROJECT_ROLES
    if not may_write(user):
        return frozenset()
    if is_operator(user):
        return kind_roles
    if isinstance(scope, Customer):
        roles = role_names(user, customer=scope)
    else:
        roles = role_names(user, customer=scope.customer, project=scope)
    if RoleName.CUSTOMER_OWNER in roles:
        return kind_roles
    if isinstance(scope, Project) and RoleName.PROJECT_MANAGER in roles:
        return PROJECT_ROLES - {RoleName.PROJECT_MANAGER}
    return frozenset()


def can_grant(user, *, scope, role_name: str) -> bool:
    """Owners and staff grant any role in their scope; project managers grant admin/member roles only."""
    return role_name in grantable_roles(user, scope=scope)
