"""Visibility lives here and only here: every list, detail, portal page and selector goes through it."""

from django.db import models
from django.db.models import Q
from django.utils import timezone


def _active_grants(user):
    from .roles import RoleGrant

    return RoleGrant.objects.active().filter(user=user)


class CustomerQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Staff and support see all; others see customers where they hold a role, on it or a project."""
        if not user.is_authenticated:
            return self.none()
        if user.is_staff or user.is_support:
            return self
        grants = _active_grants(user)
        return self.filter(
            Q(id__in=grants.filter(customer__isnull=False).values("customer_id"))
            | Q(id__in=grants.filter(project__isnull=False).values("project__customer_id"))
        )

    def owned_by(self, user):
        from .roles import RoleName

        return self.filter(id__in=_active_grants(user).filter(role__name=RoleName.CUSTOMER_OWNER).values("customer_id"))


class ProjectQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Staff and support see all; others see projects they hold a role in, or whose customer they do."""
        if not user.is_authenticated:
            return self.none()
        if user.is_staff or user.is_support:
            return self
        grants = _active_grants(user)
        return self.filter(
            Q(id__in=grants.filter(project__isnull=False).values("project_id"))
            | Q(customer_id__in=grants.filter(customer__isnull=False).values("customer_id"))
        )

    def past_end_date(self, today=None):
        today = today or timezone.localdate()
        return self.filter(end_date__lt=today)
