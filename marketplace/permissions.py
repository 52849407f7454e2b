"""Who may do what in the marketplace; built on the structure domain's role predicates."""

from federation.models import RoleName
from federation.permissions import can_manage_customer, can_manage_project, is_operator, may_write, role_names

ORDERING_ROLES = frozenset({RoleName.CUSTOMER_OWNER, RoleName.PROJECT_MANAGER, RoleName.PROJECT_ADMIN})


def can_order(user, project) -> bool:
    """Customer owners, project managers and project admins order for a project (admins need approval)."""
    if not may_write(user):
        return False
    if is_operator(user):
        return True
    return bool(role_names(user, customer=project.customer, project=project) & ORDERING_ROLES)


def can_review_as_consumer(user, project) -> bool:
    """Project managers and customer owners (and staff) approve or reject their project's orders."""
    return can_manage_project(user, project)


def can_review_as_provider(user, offering) -> bool:
    """Owners of the provider organisation (and staff) approve, reject and complete its orders."""
    return can_manage_customer(user, offering.customer)


def can_manage_offering(user, customer) -> bool:
    return can_manage_customer(user, customer)


def can_cancel(user, order) -> bool:
    """The order's creator (and staff) cancel it while it is pending."""
    return may_write(user) and (order.created_by_id == user.id or is_operator(user))
