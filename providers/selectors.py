"""Reads of providers that join across apps."""

from __future__ import annotations

from django.db import connection
from django.db.models import Prefetch, QuerySet

from common.prepared import prepared_cursor
from federation.models import RoleGrant
from federation.permissions import is_operator
from marketplace.models import Resource, ResourceState

from .models import Provider, ProviderOffering, UserConnection


def provider_for_offering(offering) -> Provider | None:
    """The provider that runs the offering, or None for an offering no provider runs."""
    link = ProviderOffering.objects.select_related("provider").filter(offering=offering).first()
    return link.provider if link else None


def provider_resource_ids(provider: Provider, uuids: set[str]) -> dict[str, int]:
    """{str(uuid): id} of the resources among canonical `uuids` that run on an offering of `provider`.

    Asked once per usage batch: on PostgreSQL a prepared statement that joins the link table directly
    (the ORM's query costs several times the look-up itself, and sorts by the resources' default order).
    """
    if connection.vendor != "postgresql":
        found = Resource.objects.filter(uuid__in=uuids, offering__provider_link__provider=provider).order_by()
        return {str(uuid): id_ for uuid, id_ in found.values_list("uuid", "id")}
    with prepared_cursor() as cursor:
        cursor.execute(_PROVIDER_RESOURCES_PG, [sorted(uuids), provider.pk])
        return {str(uuid): id_ for uuid, id_ in cursor.fetchall()}


_PROVIDER_RESOURCES_PG = f"""
    SELECT r.uuid, r.id FROM {Resource._meta.db_table} r
    JOIN {ProviderOffering._meta.db_table} link ON link.offering_id = r.offering_id
    WHERE r.uuid = ANY(%s::uuid[]) AND link.provider_id = %s
"""  # noqa: S608  (the names are the models' tables; every value is a parameter)


def providers_connectable_by(user) -> QuerySet[Provider]:
    """Providers at which `user` may connect an account: staff everywhere; anyone else where a
    project they are a member of has a resource that is not terminated."""
    if not user.is_authenticated or not user.is_active:
        return Provider.objects.none()
    if is_operator(user):
        return Provider.objects.all()
    projects = RoleGrant.objects.active().filter(user=user, project__isnull=False).values("project_id")
    providers = (
        Resource.objects.filter(project_id__in=projects, offering__provider_link__isnull=False)
        .exclude(state=ResourceState.TERMINATED)
        .values("offering__provider_link__provider_id")
    )
    return Provider.objects.filter(id__in=providers)


def provider_accounts(user) -> list[Provider]:
    """The providers `user` may connect an account at, by name, each with `account`: the user's connected
    account there (a UserConnection with the local username) or None. Two queries, whatever the number."""
    connected = UserConnection.objects.filter(user_id=user.pk, state=UserConnection.State.CONNECTED)
    providers = list(
        providers_connectable_by(user)
        .select_related("customer")
        .order_by("name", "id")
        .prefetch_related(Prefetch("connections", queryset=connected, to_attr="connected"))
    )
    for provider in providers:
        provider.account = provider.connected[0] if provider.connected else None
    return providers
