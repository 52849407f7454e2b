import uuid

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models

from .managers import UserQuerySet


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
    is_identity_manager = models.BooleanField(
        default=False,
        help_text="May look up and create federated users by community user ID (CUID).",
    )
    registration_method = models.CharField(max_length=50, blank=True, default="local")
    notification_settings = models.JSONField(
        default=dict,
        blank=True,
        help_text="Kinds of mail turned on or off: {kind: true|false}; a kind not named takes its default "
        "(federation/notification_kinds.py).",
    )

    objects = FederationUserManager()

    class Meta:
        ordering = ["username"]

    def __str__(self):
        return self.full_name or self.username

    @property
    def is_global_reader(self) -> bool:
        return self.is_staff or self.is_support
