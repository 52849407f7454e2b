import uuid

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models


class UserQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Staff and support see everyone; others see themselves and the people of their scopes.

        The people of a scope are those holding a role on a customer where the user holds a
        customer role, or on a project visible to the user (so an owner sees the members of the
        customer's projects, whom they manage, and a project member sees the other members).
        """
        if not user.is_authenticated:
            return self.none()
        if user.is_staff or user.is_support:
            return self
        from .roles import RoleGrant
        from .structure import Project

        my_customers = RoleGrant.objects.active().filter(user=user, customer__isnull=False).values("customer_id")
        shared = RoleGrant.objects.active().filter(
            models.Q(customer_id__in=my_customers)
            | models.Q(project_id__in=Project.objects.visible_to(user).values("id"))
        )
        return self.filter(models.Q(id=user.id) | models.Q(id__in=shared.values("user_id")))


class FederationUserManager(UserManager.from_queryset(UserQuerySet)):
    pass


class User(AbstractUser):
    """A person. `cuid` is the federated community identifier (e.g. eduTEAMS / MyAccessID)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    full_name = models.CharField(max_length=200, blank=True)
    cuid = models.CharField(
        "community user ID",
        max_length=255,
        unique=True,
        null=True,
        blank=True,
        help_text="Federated identifier of the person; unique when set.",
    )
    is_support = models.BooleanField(default=False, help_text="Global support: may read everything.")
    registration_method = models.CharField(max_length=50, blank=True, default="local")

    objects = FederationUserManager()

    class Meta:
        ordering = ["username"]

    def __str__(self):
        return self.full_name or self.username

    @property
    def is_global_reader(self) -> bool:
        return self.is_staff or self.is_support
