import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class RoleName(models.TextChoices):
    CUSTOMER_OWNER = "CUSTOMER.OWNER"
    CUSTOMER_SUPPORT = "CUSTOMER.SUPPORT"
    PROJECT_ADMIN = "PROJECT.ADMIN"
    PROJECT_MANAGER = "PROJECT.MANAGER"
    PROJECT_MEMBER = "PROJECT.MEMBER"


ROLE_DESCRIPTIONS = {
    RoleName.CUSTOMER_OWNER: "Owns the organisation: manages its projects, members and orders.",
    RoleName.CUSTOMER_SUPPORT: "Reads everything of the organisation.",
    RoleName.PROJECT_ADMIN: "Manages the project's resources.",
    RoleName.PROJECT_MANAGER: "Manages the project's members, resources and orders.",
    RoleName.PROJECT_MEMBER: "Uses the project's resources.",
}

CUSTOMER_ROLES = frozenset({RoleName.CUSTOMER_OWNER, RoleName.CUSTOMER_SUPPORT})
PROJECT_ROLES = frozenset({RoleName.PROJECT_ADMIN, RoleName.PROJECT_MANAGER, RoleName.PROJECT_MEMBER})


class Role(models.Model):
    """A named role; the five rows are created by a migration and never change name."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=40, unique=True, choices=RoleName.choices)
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def scope_type(self) -> str:
        return "customer" if self.name in CUSTOMER_ROLES else "project"


def ensure_roles(role_model=None) -> None:
    """Create the five roles where missing (the first migration does this; so do test fixtures)."""
    role_model = role_model or Role
    for name, description in ROLE_DESCRIPTIONS.items():
        role_model.objects.get_or_create(name=str(name), defaults={"description": description})


class RoleGrantQuerySet(models.QuerySet):
    def active(self, at=None):
        """Grants that give access now: not deactivated and not past their expiration time."""
        at = at or timezone.now()
        return self.filter(Q(expiration_time__isnull=True) | Q(expiration_time__gt=at), is_active=True)


class RoleGrant(models.Model):
    """A grant of a role to a user on exactly one scope (a customer or a project)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_grants")
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="grants")
    customer = models.ForeignKey(
        "federation.Customer", null=True, blank=True, on_delete=models.CASCADE, related_name="role_grants"
    )
    project = models.ForeignKey(
        "federation.Project", null=True, blank=True, on_delete=models.CASCADE, related_name="role_grants"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    expiration_time = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)

    objects = RoleGrantQuerySet.as_manager()

    class Meta:
        ordering = ["created", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(customer__isnull=False, project__isnull=True)
                | Q(customer__isnull=True, project__isnull=False),
                name="role_grant_exactly_one_scope",
                violation_error_message="A role grant has exactly one scope: a customer or a project.",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "customer"],
                condition=Q(is_active=True, customer__isnull=False),
                name="role_grant_unique_active_customer",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "project"],
                condition=Q(is_active=True, project__isnull=False),
                name="role_grant_unique_active_project",
            ),
        ]
        indexes = [models.Index(fields=["user", "is_active"])]

    def __str__(self):
        return f"{self.user} {self.role} on {self.customer or self.project}"

    @property
    def scope(self):
        return self.customer or self.project
