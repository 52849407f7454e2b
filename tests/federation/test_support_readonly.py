"""Global support reads everything and writes nothing, on every write endpoint, in the services and the portal.

The write endpoints are found by walking the URL configuration (the API router included), so an
endpoint added later is checked without anyone adding it here; the OpenAPI schema is checked to
hold no write operation the walk missed.
"""

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from django.apps import apps
from django.test import RequestFactory
from django.urls import URLResolver, get_resolver, reverse
from drf_spectacular.generators import SchemaGenerator
from rest_framework.request import Request
from rest_framework.views import APIView

from accounting.policies.services import policy_create
from accounting.services import UsageReport, usage_report
from accounting.shares.services import share_grant
from common.exceptions import PermissionDenied
from federation import identity
from federation import services as structure
from federation.api.authentication import HashedTokenAuthentication
from federation.models import Customer, RoleGrant, RoleName
from federation.permissions import (
    can_grant,
    can_look_up_identities,
    can_manage_customer,
    can_manage_project,
    is_operator,
    may_write,
    sees_everything,
)
from marketplace import permissions as market
from marketplace import services as market_services
from marketplace.models import Order, OrderState, Resource
from protocol.keys import generate_private_key, jwks, public_jwk
from providers import services as provider_services
from providers.models import Provider
from tests.factories import CustomerFactory, ProviderFactory, UserFactory, catalogue_offering, grant
from webhooks import services as webhooks

WRITE_METHODS = ("post", "put", "patch", "delete")
# The caller's own session and credentials (log in, log out, revoke one's own token): a read-only
# account still manages its own key. Nothing of the federation's data is reachable through them.
OWN_CREDENTIALS = re.compile(r"^(api-auth/|api/\^?tokens/)")


@dataclass(frozen=True)
class Endpoint:
    route: str
    name: str
    method: str
    view_class: type
    initkwargs: dict
    action: str | None
    kwargs: tuple[str, ...]

    def __str__(self):
        return f"{self.method.upper()} {self.template}"

    @property
    def template(self) -> str:
        """The route as the OpenAPI schema writes it: /api/customers/{uuid}/add_user/."""
        path = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", self.route)
        return "/" + path.replace("^", "").replace("$", "")

    @property
    def takes_user_tokens(self) -> bool:
        return any(issubclass(cls, HashedTokenAuthentication) for cls in self.view_class.authentication_classes)


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        else:
            yield prefix + str(entry.pattern), entry


def api_write_endpoints() -> list[Endpoint]:
    """Every (method, URL) of a REST framework view that may change something."""
    found = []
    for route, pattern in _walk(get_resolver().url_patterns):
        view_class = getattr(pattern.callback, "cls", None)
        groups = tuple(pattern.pattern.regex.groupindex)
        if view_class is None or not issubclass(view_class, APIView) or "format" in groups:
            continue  # Django views (admin, portal), and the router's `.json` twins of each route
        actions = getattr(pattern.callback, "actions", None)
        if actions is not None:
            methods = {method: name for method, name in actions.items() if method in WRITE_METHODS}
        else:
            methods = {method: None for method in WRITE_METHODS if hasattr(view_class, method)}
        for method, action in methods.items():
            initkwargs = getattr(pattern.callback, "initkwargs", {})
            found.append(Endpoint(route, pattern.name, method, view_class, initkwargs, action, groups))
    return found


ENDPOINTS = [e for e in api_write_endpoints() if not OWN_CREDENTIALS.match(e.route)]


def _lookup_value(endpoint: Endpoint, staff):
    """The lookup value (uuid or slug) of an object the endpoint's own queryset holds, as staff sees it."""
    view = endpoint.view_class(**endpoint.initkwargs)
    request = Request(RequestFactory().get("/"))
    request.user = staff
    view.request, view.action, view.kwargs, view.format_kwarg = request, endpoint.action, {}, None
    obj = view.get_queryset().order_by("pk").first()
    assert obj is not None, f"{endpoint}: the test world has no object for this endpoint; add one to `world`"
    return getattr(obj, view.lookup_field)


def _url(endpoint: Endpoint, staff) -> str:
    lookup = getattr(endpoint.view_class, "lookup_url_kwarg", None) or getattr(
        endpoint.view_class, "lookup_field", None
    )
    unknown = set(endpoint.kwargs) - {lookup}
    assert not unknown, f"{endpoint}: no value for the URL argument(s) {unknown}; teach the test"
    assert endpoint.name, f"{endpoint}: give the URL a name"
    kwargs = {lookup: _lookup_value(endpoint, staff)} if endpoint.kwargs else {}
    return reverse(endpoint.name, kwargs=kwargs)


def snapshot() -> dict:
    """Every row of every table; `last_used` of tokens is bookkeeping of authentication, not data."""
    rows = {}
    for model in apps.get_models():
        values = list(model._default_manager.order_by("pk").values())
        for row in values:
            row.pop("last_used", None)
        rows[model._meta.label] = values
    return rows


@pytest.fixture
def world(customer, project, owner, member, staff):
    """One object of every kind the API writes to: structure, catalogue, orders, resources, usage, providers."""
    provider_org = CustomerFactory(name="HPC Centre")
    provider_owner = UserFactory(username="provider-owner")
    grant(provider_owner, provider_org, RoleName.CUSTOMER_OWNER)
    offering = catalogue_offering(customer=provider_org, name="HPC allocation")
    plan = offering.plans.get()

    def place(name):
        return market_services.order_create(
            actor=owner,
            project=project,
            offering=offering,
            plan=plan,
            attributes={"name": name},
            limits={"cpu_k_hours": 10, "storage_tb": 1},
        )

    waiting = place("waiting")  # pending-provider: the owner may approve its own orders
    running = market_services.order_approve_by_provider(order=place("running"), actor=None)
    usage_report(reports=[UsageReport(running.resource_id, "gpu_hours", date(2026, 11, 1), Decimal("1.5"))])
    ProviderFactory(slug="site", customer=provider_org, jwks=jwks(public_jwk(generate_private_key(), "site-1")))
    webhooks.webhook_create(
        actor=owner, destination_url="http://93.184.216.34/hook", scope_type="customer", scope_uuid=customer.uuid
    )
    share_grant(actor=None, customer=customer, offering=offering, component_type="cpu_k_hours", amount=Decimal(100),
                start_date=date(2026, 1, 1), end_date=date(2026, 12, 31))  # fmt: skip
    policy_create(actor=owner, scope=project, kind="cost", limit_cost=Decimal(1000),
                  thresholds=[{"percent": 100, "actions": ["notify"]}])  # fmt: skip
    return {"waiting": waiting, "running": running, "offering": offering, "provider_owner": provider_owner}


def test_the_walk_finds_the_api_and_the_schema_has_nothing_more():
    found = {(e.method, e.template) for e in api_write_endpoints()}
    assert ("post", "/api/customers/") in found
    assert ("post", "/api/marketplace-orders/{uuid}/approve_by_provider/") in found
    assert ("post", "/api/remote-eduteams/") in found
    schema = SchemaGenerator().get_schema(request=None, public=True)
    in_schema = {(m, path) for path, item in schema["paths"].items() for m in item if m in WRITE_METHODS}
    assert in_schema - found == set()


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_support_may_not_write_anywhere(api, world, support, staff, endpoint):
    url = _url(endpoint, staff)
    client = api.as_user(support)
    before = snapshot()
    response = getattr(client, endpoint.method)(url, {}, format="json")
    if endpoint.takes_user_tokens:
        assert response.status_code == 403, (url, response.status_code, response.content[:300])
    else:  # the provider protocol: a user's token is no provider's token
        assert response.status_code in (401, 403), (url, response.status_code, response.content[:300])
    assert snapshot() == before


def test_support_sees_everything(api, world, support):
    client = api.as_user(support)
    for path in ("/api/customers/", "/api/projects/", "/api/users/", "/api/marketplace-orders/",
                 "/api/marketplace-resources/", "/api/providers/", "/api/marketplace-component-usages/"):  # fmt: skip
        response = client.get(path)
        assert response.status_code == 200 and response.json(), path
    order = world["waiting"]
    assert client.get(f"/api/marketplace-orders/{order.uuid}/").json()["state"] == OrderState.PENDING_PROVIDER


# --- the services refuse support as well (the portal and the admin actions call them) -----------


def test_permission_helpers_refuse_support_even_with_a_role(support, customer, project, world):
    grant(support, customer, RoleName.CUSTOMER_OWNER)  # a role does not lift the read-only flag
    order = world["waiting"]
    assert sees_everything(support) and not may_write(support) and not is_operator(support)
    assert not can_look_up_identities(support)
    assert not can_manage_customer(support, customer)
    assert not can_manage_project(support, project)
    assert not can_grant(support, scope=project, role_name=RoleName.PROJECT_MEMBER)
    assert not market.can_order(support, project)
    assert not market.can_review_as_consumer(support, project)
    assert not market.can_review_as_provider(support, order.offering)
    assert not market.can_manage_offering(support, order.offering.customer)
    assert not market.can_cancel(support, order)


def test_support_and_staff_together_is_staff(db, customer):
    both = UserFactory(is_staff=True, is_support=True)
    assert may_write(both) and is_operator(both) and can_manage_customer(both, customer)


def test_support_cannot_approve_or_complete_another_providers_order(support, world):
    """The reported attack: approve a provider's order, then complete it with a forged backend_id."""
    waiting, running = world["waiting"], world["running"]
    with pytest.raises(PermissionDenied):
        market_services.order_approve_by_provider(order=waiting, actor=support)
    with pytest.raises(PermissionDenied):
        market_services.order_set_state_done(order=running, actor=support, backend_id="forged")
    waiting.refresh_from_db()
    running.refresh_from_db()
    assert (waiting.state, running.state) == (OrderState.PENDING_PROVIDER, OrderState.EXECUTING)
    assert Resource.objects.get(pk=running.resource_id).backend_id == ""


def test_support_cannot_edit_customers_or_make_itself_owner(support, customer):
    with pytest.raises(PermissionDenied):
        structure.customer_update(actor=support, customer=customer, name="Taken over")
    with pytest.raises(PermissionDenied):
        structure.role_grant(actor=support, scope=customer, user=support, role=_role(RoleName.CUSTOMER_OWNER))
    with pytest.raises(PermissionDenied):
        structure.customer_create(actor=support, name="New")
    customer.refresh_from_db()
    assert customer.name == "Acme University"
    assert not RoleGrant.objects.filter(user=support).exists()
    assert Customer.objects.count() == 1


def test_support_cannot_register_providers_or_change_their_keys(support, world):
    provider = Provider.objects.get(slug="site")
    keys = jwks(public_jwk(generate_private_key(), "other-1"))
    with pytest.raises(PermissionDenied):
        provider_services.provider_register(
            actor=support, slug="rogue", domain="rogue.example.org", customer=provider.customer, jwks=keys
        )
    with pytest.raises(PermissionDenied):
        provider_services.provider_update_keys(actor=support, provider=provider, jwks=keys)
    provider.refresh_from_db()
    assert list(Provider.objects.values_list("slug", flat=True)) == ["site"]
    assert provider.jwks["keys"][0]["kid"] == "site-1"


def test_cuid_look_up_needs_the_identity_manager_flag(db, support, staff):
    UserFactory(cuid="ada@myaccessid.org")
    with pytest.raises(PermissionDenied):
        identity.user_from_cuid(actor=support, cuid="ada@myaccessid.org")
    manager = UserFactory(is_identity_manager=True)
    assert identity.user_from_cuid(actor=manager, cuid="ada@myaccessid.org").cuid == "ada@myaccessid.org"
    assert identity.user_from_cuid(actor=staff, cuid="ada@myaccessid.org").cuid == "ada@myaccessid.org"


def test_identity_manager_is_not_otherwise_privileged(api, db, customer):
    manager = UserFactory(is_identity_manager=True)
    client = api.as_user(manager)
    assert client.get("/api/users/me/").json()["is_identity_manager"] is True
    assert client.get(f"/api/customers/{customer.uuid}/").status_code == 404
    assert client.post("/api/customers/", {"name": "New"}, format="json").status_code == 403


def _role(name):
    from federation.models import Role

    return Role.objects.get(name=name)


# --- the portal and the admin ------------------------------------------------------------------


def test_support_places_no_order_through_the_portal(client, support, project, world):
    grant(support, project, RoleName.PROJECT_MANAGER)
    client.force_login(support)
    offering = world["offering"]
    before = Order.objects.count()
    response = client.post(
        f"/catalogue/{offering.uuid}/",
        {"project": str(project.uuid), "plan": str(offering.plans.get().uuid), "name": "sneaky",
         "limit_cpu_k_hours": "10", "limit_storage_tb": "1"},
    )  # fmt: skip
    assert response.status_code == 200  # the form again, with the refusal
    assert "may order for it" in response.content.decode()
    assert Order.objects.count() == before


def test_support_is_not_let_into_the_admin(client, support, customer):
    client.force_login(support)
    response = client.get(f"/admin/federation/customer/{customer.pk}/change/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    response = client.post(f"/admin/federation/customer/{customer.pk}/change/", {"name": "Taken over"})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.name == "Acme University"
