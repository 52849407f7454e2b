"""Visibility of the marketplace, in one place; built on the structure domain's own visible_to()."""

from django.db.models import Q

from common.querysets import VisibleQuerySet


def _owned_customers(user):
    from federation.models import Customer

    return Customer.objects.owned_by(user).values("id")


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


class _ProjectOrProviderQuerySet(VisibleQuerySet):
    def _visible_to_member(self, user):
        """Visible with the project, and to the owners of the organisation providing the offering."""
        return self.filter(
            Q(project_id__in=_visible_projects(user)) | Q(offering__customer_id__in=_owned_customers(user))
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
