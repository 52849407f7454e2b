"""Visibility lives here and only here: every list, detail, portal page and selector goes through it."""

from django.db.models import Q
from django.utils import timezone

from common.querysets import VisibleQuerySet


def _active_grants_model():
    from .roles import RoleGrant

    return RoleGrant.objects.active()


def _active_grants(user):
    return _active_grants_model().filter(user=user)


class CustomerQuerySet(VisibleQuerySet):
    def _visible_to_member(self, user):
        """Customers where the user holds a role, on the customer itself or on one of its projects."""
        grants = _active_grants(user)
        return self.filter(
            Q(id__in=grants.filter(customer__isnull=False).values("customer_id"))
            | Q(id__in=grants.filter(project__isnull=False).values("project__customer_id"))
        )

    def owned_by(self, user):
        from .roles import RoleName

        return self.filter(id__in=_active_grants(user).filter(role__name=RoleName.CUSTOMER_OWNER).values("customer_id"))


class ProjectQuerySet(VisibleQuerySet):
    def _visible_to_member(self, user):
        """Projects the user holds a role in, or whose customer they do.

        Written as one IN over a UNION rather than an OR of two INs: PostgreSQL reads an OR of subqueries
        by scanning every project (and every resource or order filtered through this), while each side of
        the union is an index lookup of a few rows."""
        grants = _active_grants(user).order_by()
        direct = grants.filter(project__isnull=False).values("project_id")
        customers = grants.filter(customer__isnull=False).values("customer_id")
        through_customer = self.model.objects.filter(customer_id__in=customers).order_by().values("id")
        return self.filter(id__in=direct.union(through_customer))

    def past_end_date(self, today=None):
        today = today or timezone.localdate()
        return self.filter(end_date__lt=today)


class UserQuerySet(VisibleQuerySet):
    def _visible_to_member(self, viewer):
        """Who may see whom: the one rule behind /api/users/, `list_users`, the portal and every person shown.

        Staff and support see everyone (`visible_to`). Others see themselves; the people holding a role on a
        customer where they hold a customer role, or on a project they can see (so an owner sees the
        members of the customer's projects, whom they manage, and a project member sees the other
        members, but not the organisation's owners); and the people that apps building on the
        structure add through `hooks.register_user_visibility` (the marketplace: who placed,
        reviewed or changed the state of an order or resource the viewer can see).
        """
        from federation.hooks import user_visibility_rules

        from .structure import Project

        grants = _active_grants(viewer)
        my_customers = grants.filter(customer__isnull=False).values("customer_id")
        shared = _active_grants_model().filter(
            Q(customer_id__in=my_customers) | Q(project_id__in=Project.objects.visible_to(viewer).values("id"))
        )
        visible = Q(id=viewer.id) | Q(id__in=shared.values("user_id"))
        for rule in user_visibility_rules():
            visible |= rule(viewer)
        return self.filter(visible)
