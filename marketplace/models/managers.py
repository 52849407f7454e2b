"""Visibility of the marketplace, in one place; built on the structure domain's own visible_to()."""

import contextvars

from django.db.models import Q

from common.querysets import VisibleQuerySet, reads_everything
from common.sql import AmongIds


def _owned_customers(user):
    from federation.models import Customer

    return Customer.objects.owned_by(user).values("id")


def _owned_offerings(user):
    """The offerings of the organisations `user` owns: `offering__customer_id__in=_owned_customers(user)`
    as a list of offering ids (an order's and a resource's offering is never empty)."""
    from .catalogue import Offering

    return Offering.objects.filter(customer_id__in=_owned_customers(user)).values("id")


def _visible_projects(user):
    from federation.models import Project

    return Project.objects.visible_to(user).values("id")


class OfferingQuerySet(VisibleQuerySet):
    def _visible_to_member(self, user):
        """Signed-in users see active and paused offerings; the provider's owners see all of theirs."""
        from .catalogue import OfferingState

        listed = [OfferingState.ACTIVE, OfferingState.PAUSED]
        return self.filter(Q(state__in=listed) | Q(customer_id__in=_owned_customers(user)))


class PlanQuerySet(VisibleQuerySet):
    def _visible_to_member(self, user):
        """Visible with the offering."""
        from .catalogue import Offering

        return self.filter(offering__in=Offering.objects.visible_to(user))


# The user (their id, as the session holds it) who, in this request, owned no provider organisation with
# offerings when they signed in; set by the portal from its session (`portal.row_hints`). It chooses only
# how the rows are asked for, never which: a stale value makes a page slower, not different.
signed_in_without_offerings: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "signed_in_without_offerings", default=None
)


def owns_offerings(user) -> bool:
    """Whether `user` owns an organisation that provides an offering (one query)."""
    return _owned_offerings(user).exists()


class _ProjectOrProviderQuerySet(VisibleQuerySet):
    def _visible_to_member(self, user):
        """Visible with the project, and to the owners of the organisation providing the offering."""
        return self.filter(
            Q(project_id__in=_visible_projects(user)) | Q(offering__customer_id__in=_owned_customers(user))
        )

    def listed_to(self, user):
        """The rows of `visible_to(user)`, asked for in the form that is faster for a list (a count, a page,
        a sort over all one sees); to look up one row, or inside a larger rule, `visible_to`'s is faster.

        When the request's hint says `user` provides nothing, the ids of each part of the rule are read
        first, each from its own index, and the rows fetched by id (`AmongIds`): the OR of the two
        subqueries makes PostgreSQL read the whole table for every count and page (100,000 orders:
        35-150 ms a query for someone who sees twenty). For a provider's owners the ids may be most of
        the table, which is read faster than by id (the owner of a provider of all 100,000 orders: pages
        five to six times slower by id); the rule is then the same OR, on the row's own columns: the
        visible projects and the owned organisations' offerings are read once, and each row compared with
        them, without the join to the offering, so that a count reads only an index holding the columns
        (migration 0010: 100,000 orders counted by state in 20 ms against 60-85)."""
        if not user.is_authenticated or reads_everything(user):
            return self.visible_to(user)
        if signed_in_without_offerings.get() == str(user.pk):
            everyone = self.model.objects.order_by()
            by_project = everyone.filter(project_id__in=_visible_projects(user)).values("id")
            by_provider = everyone.filter(offering_id__in=_owned_offerings(user)).values("id")
            return self.filter(AmongIds(by_project.union(by_provider, all=True)))
        return self.filter(
            Q(AmongIds(_visible_projects(user), field="project_id"))
            | Q(AmongIds(_owned_offerings(user), field="offering_id"))
        )


class ResourceQuerySet(_ProjectOrProviderQuerySet):
    pass


class OrderQuerySet(_ProjectOrProviderQuerySet):
    def open(self):
        from .orders import OPEN_ORDER_STATES

        return self.filter(state__in=OPEN_ORDER_STATES)


class StateChangeQuerySet(VisibleQuerySet):
    def _visible_to_member(self, user):
        """Visible with the order or the resource whose state it records."""
        from .orders import Order
        from .resources import Resource

        return self.filter(
            Q(order_id__in=Order.objects.visible_to(user).values("id"))
            | Q(resource_id__in=Resource.objects.visible_to(user).values("id"))
        )
