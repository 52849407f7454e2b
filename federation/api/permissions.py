"""API-wide permission classes; the per-object rules stay in the services (federation/permissions.py)."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from federation.permissions import can_look_up_identities, may_write


class SupportIsReadOnly(BasePermission):
    """Read-only accounts (global support) get a 403 on every write, before the request body is looked at."""

    message = "This account is read-only (global support): it may read everything and change nothing."

    def has_permission(self, request, view):
        return request.method in SAFE_METHODS or may_write(request.user)


class IsIdentityManager(BasePermission):
    """Staff and identity managers only: the CUID look-up can create users."""

    message = "Only staff and identity managers may look up users by CUID."

    def has_permission(self, request, view):
        return can_look_up_identities(request.user)
