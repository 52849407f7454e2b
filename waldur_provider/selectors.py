"""What a provider's service account sees through the Waldur provider API.

A service account is a user holding the owner role of a provider organisation (the offering's
customer). It sees the offerings of that organisation that no push provider runs — the ones a
Waldur site agent polls for — and their resources; everything else answers 404. Staff and global
support see every such offering (support only reads: every write checks `may_write`).
"""

from django.db.models import Prefetch, QuerySet

from common.querysets import reads_everything
from federation.models import Customer, RoleGrant
from marketplace.models import Offering, OfferingComponent, Resource


def _pull_offerings() -> QuerySet[Offering]:
    """Offerings without a push provider: a Waldur site agent serves them by polling our API."""
    return Offering.objects.filter(provider_link__isnull=True)


def provider_customers(*, user) -> QuerySet[Customer]:
    """The provider organisations `user` acts for."""
    if not user.is_authenticated:
        return Customer.objects.none()
    if reads_everything(user):
        return Customer.objects.all()
    return Customer.objects.owned_by(user)


def provider_offering_list(*, user) -> QuerySet[Offering]:
    components = OfferingComponent.objects.order_by("id")
    return (
        _pull_offerings()
        .filter(customer__in=provider_customers(user=user))
        .select_related("customer")
        .prefetch_related(Prefetch("components", queryset=components, to_attr="components_list"))
    )


def service_provider_list(*, user) -> QuerySet[Customer]:
    """Organisations `user` acts for that publish at least one offering served by a site agent."""
    offering_customers = _pull_offerings().values("customer_id")
    return provider_customers(user=user).filter(id__in=offering_customers).order_by("name", "id")


def provider_resource_list(*, user) -> QuerySet[Resource]:
    return Resource.objects.filter(
        offering__in=_pull_offerings().filter(customer__in=provider_customers(user=user))
    ).select_related("offering__customer", "plan", "project__customer")


def resource_team(*, resource: Resource) -> QuerySet[RoleGrant]:
    """The project's active role grants: the people a site gives access to the resource."""
    return RoleGrant.objects.active().filter(project_id=resource.project_id).select_related("user", "role")


def offering_user_list(*, user, offering_uuid=None, user_uuid=None) -> list[tuple[Offering, object]]:
    """(offering, person) pairs: everyone who holds or held a role in a project holding a live resource
    of one of the offerings `user` provides. Waldur keeps these as offering users, and keeps them when
    the role ends (an agent told of a revoked role looks the person up to remove their access); here
    they follow from the projects' role grants, and each person's site username is their username here
    (Waldur's `waldur_username` policy). Who has access now is the resource's `team`."""
    offerings = {o.id: o for o in provider_offering_list(user=user).filter(**_uuid_filter(offering_uuid))}
    live = Resource.objects.filter(offering_id__in=offerings).exclude(state="Terminated")
    grants = (
        RoleGrant.objects.filter(project_id__in=live.values("project_id"), **_uuid_filter(user_uuid, "user__uuid"))
        .select_related("user")
        .order_by("user_id")
    )
    projects: dict[int, set[int]] = {}
    for project_id, offering_id in live.values_list("project_id", "offering_id"):
        projects.setdefault(project_id, set()).add(offering_id)
    pairs = {}
    for grant in grants:
        for offering_id in projects.get(grant.project_id, ()):
            pairs[(offering_id, grant.user_id)] = (offerings[offering_id], grant.user)
    return [pairs[key] for key in sorted(pairs)]


def _uuid_filter(value, field: str = "uuid") -> dict:
    return {field: value} if value is not None else {}
