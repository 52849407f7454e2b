"""Who may do what on customers and projects. Services call these; views never decide by hand."""

from django.db.models import Q

from .models import Customer, Project, RoleGrant, RoleName
from .models.roles import PROJECT_ROLES


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


def is_operator(user) -> bool:
    return user.is_authenticated and (user.is_staff or user.is_support)


def can_manage_customer(user, customer: Customer) -> bool:
    return is_operator(user) or RoleName.CUSTOMER_OWNER in role_names(user, customer=customer)


def can_manage_project(user, project: Project) -> bool:
    if is_operator(user):
        return True
    roles = role_names(user, customer=project.customer, project=project)
    return bool(roles & {RoleName.CUSTOMER_OWNER, RoleName.PROJECT_MANAGER})


def can_grant(user, *, scope, role_name: str) -> bool:
    """Owners and operators grant any role in their scope; project managers grant admin/member roles only."""
    if is_operator(user):
        return True
    if isinstance(scope, Customer):
        return RoleName.CUSTOMER_OWNER in role_names(user, customer=scope)
    roles = role_names(user, customer=scope.customer, project=scope)
    if RoleName.CUSTOMER_OWNER in roles:
        return True
    return RoleName.PROJECT_MANAGER in roles and role_name in PROJECT_ROLES - {RoleName.PROJECT_MANAGER}
