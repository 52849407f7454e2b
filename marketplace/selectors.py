"""Reads of the marketplace that join or aggregate; list querysets carry everything their serializers need."""

from django.db.models import Prefetch, Q, QuerySet

from .models import Offering, OfferingComponent, Order, Plan, PlanComponent, Resource, StateChange
from .processors import offering_related


def _plan_prefetch() -> Prefetch:
    prices = PlanComponent.objects.select_related("component")
    return Prefetch("components", queryset=prices, to_attr="prices_list")


def plan_list(*, user) -> QuerySet[Plan]:
    return Plan.objects.visible_to(user).select_related("offering").prefetch_related(_plan_prefetch())


def offering_list(*, user) -> QuerySet[Offering]:
    plans = Plan.objects.select_related("offering").prefetch_related(_plan_prefetch())
    return (
        Offering.objects.visible_to(user)
        .select_related("customer", *offering_related())
        .prefetch_related(
            Prefetch("components", queryset=OfferingComponent.objects.all(), to_attr="components_list"),
            Prefetch("plans", queryset=plans, to_attr="plans_list"),
        )
    )


def order_list(*, user, listing: bool = False) -> QuerySet[Order]:
    """The orders `user` sees; `listing` for a list, count or page over all of them rather than a lookup of
    a few (the same rows, asked in the form faster for that: `OrderQuerySet.listed_to`)."""
    orders = Order.objects.listed_to(user) if listing else Order.objects.visible_to(user)
    return orders.select_related(
        "offering__customer",
        "plan",
        "project__customer",
        "resource",
        "created_by",
        "consumer_reviewed_by",
        "provider_reviewed_by",
    )


def resource_list(*, user, listing: bool = False) -> QuerySet[Resource]:
    """The resources `user` sees; `listing` as for `order_list`."""
    resources = Resource.objects.listed_to(user) if listing else Resource.objects.visible_to(user)
    return resources.select_related("offering__customer", "plan", "project__customer")


def project_resources(*, user, project) -> QuerySet[Resource]:
    """The resources of one project that `user` may see (all of them, for whoever sees the project)."""
    return Resource.objects.visible_to(user).filter(project=project)


def state_change_list(*, user) -> QuerySet[StateChange]:
    return StateChange.objects.visible_to(user).select_related("order", "resource", "actor")


def people_acting_on_visible_orders(viewer) -> Q:
    """The marketplace's part of who may see whom: who placed, reviewed or changed the state of an
    order or resource the viewer can see (the people those pages and the API name)."""
    orders = Order.objects.visible_to(viewer)
    return (
        Q(id__in=orders.values("created_by_id"))
        | Q(id__in=orders.values("consumer_reviewed_by_id"))
        | Q(id__in=orders.values("provider_reviewed_by_id"))
        | Q(id__in=StateChange.objects.visible_to(viewer).values("actor_id"))
    )
