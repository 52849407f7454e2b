"""Each detail endpoint and portal detail page runs a fixed number of SQL queries, and so does placing an
order; the number does not grow with the object's history (two resources: one order each, or three).

The numbers are pinned: a serializer field or template that queries per row, or a lost select_related,
makes these fail loudly. An API request costs one query for the token (with its user); a portal page
two (the session, then the user).
"""

import pytest
from django.test import Client

from federation.models import RoleName
from marketplace import services
from marketplace.models import Order
from tests.factories import (
    CustomerFactory,
    ProviderFactory,
    ProviderOfferingFactory,
    UserFactory,
    agent_offering,
    catalogue_offering,
    grant,
)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _done_order(**fields) -> Order:
    order = services.order_create(actor=None, attributes={"name": "Allocation"}, **fields)
    order = services.order_approve_by_provider(order=order, actor=None)
    return services.order_set_state_done(order=order, actor=None, backend_id=f"acct-{order.pk}")


@pytest.fixture
def world(customer, project, owner, manager, staff):
    """A project with two resources at a provider organisation: one made by one order, one by three."""
    provider_org = CustomerFactory(name="HPC Centre")
    provider_owner = UserFactory(username="provider-owner")
    grant(provider_owner, provider_org, RoleName.CUSTOMER_OWNER)
    offering = catalogue_offering(customer=provider_org, name="HPC allocation")
    plan = offering.plans.get()
    provider = ProviderFactory(slug="hpc-site", customer=provider_org)
    ProviderOfferingFactory(provider=provider, offering=agent_offering(customer=provider_org))
    limits = {"cpu_k_hours": 100, "storage_tb": 2}
    fresh = _done_order(project=project, offering=offering, plan=plan, limits=limits).resource
    busy = _done_order(project=project, offering=offering, plan=plan, limits=limits).resource
    for amount in (200, 300):
        update = services.resource_update_limits(resource=busy, actor=manager, limits={"cpu_k_hours": amount})
        services.order_approve_by_provider(order=update, actor=None)
        services.order_set_state_done(order=update, actor=None)
    assert busy.orders.count() == 3
    return {
        "customer": customer.uuid,
        "project": project.uuid,
        "offering": offering.uuid,
        "plan": plan.uuid,
        "provider": provider.slug,
        "resources": [fresh.uuid, busy.uuid],
        "orders": [fresh.orders.get().uuid, busy.orders.order_by("-created").first().uuid],
        "provider_owner": provider_owner,
    }


# (path with {object}, the object's key in `world`, who else sees it, queries for staff, for that viewer)
API = [
    pytest.param("/api/customers/{object}/", "customer", "owner", 2, 2, id="customer"),
    pytest.param("/api/projects/{object}/", "project", "manager", 2, 2, id="project"),
    pytest.param("/api/marketplace-offerings/{object}/", "offering", "manager", 5, 5, id="offering"),
    pytest.param("/api/marketplace-public-offerings/{object}/", "offering", "manager", 5, 5, id="public-offering"),
    pytest.param("/api/marketplace-plans/{object}/", "plan", "manager", 3, 3, id="plan"),
    pytest.param("/api/marketplace-resources/{object}/", "resources", "manager", 2, 2, id="resource"),
    pytest.param("/api/marketplace-orders/{object}/", "orders", "manager", 2, 2, id="order"),
    pytest.param("/api/providers/{object}/", "provider", "provider_owner", 3, 3, id="provider"),  # + endpoints
]

PORTAL = [
    # a viewer's page also asks once which roles they may grant (the team controls); staff may grant any
    pytest.param("/projects/{object}/", "project", "manager", 5, 6, id="project"),
    pytest.param("/catalogue/{object}/", "offering", "manager", 7, 7, id="offering"),
    # + the monthly usage series and the provider with the person's connection there; a viewer's page also
    # asks once whether they may order (staff may)
    pytest.param("/resources/{object}/", "resources", "manager", 9, 10, id="resource"),
    pytest.param("/orders/{object}/", "orders", "manager", 5, 5, id="order"),  # + the offering's components
]


def _objects(world, key):
    value = world[key]
    return value if isinstance(value, list) else [value]


def _viewer(request, world, who):
    return world[who] if who in world else request.getfixturevalue(who)


@pytest.mark.parametrize("as_staff", [True, False], ids=["staff", "viewer"])
@pytest.mark.parametrize(("path", "key", "who", "staff_queries", "viewer_queries"), API)
def test_api_detail_query_count(
    api, request, world, django_assert_num_queries, as_staff, path, key, who, staff_queries, viewer_queries
):
    client = api.as_user(request.getfixturevalue("staff") if as_staff else _viewer(request, world, who))
    for obj in _objects(world, key):
        with django_assert_num_queries(staff_queries if as_staff else viewer_queries):
            response = client.get(path.format(object=obj))
        assert response.status_code == 200, response.content


@pytest.mark.parametrize("as_staff", [True, False], ids=["staff", "viewer"])
@pytest.mark.parametrize(("path", "key", "who", "staff_queries", "viewer_queries"), PORTAL)
def test_portal_detail_query_count(
    request, world, django_assert_num_queries, as_staff, path, key, who, staff_queries, viewer_queries
):
    client = Client()
    client.force_login(request.getfixturevalue("staff") if as_staff else _viewer(request, world, who))
    for obj in _objects(world, key):
        with django_assert_num_queries(staff_queries if as_staff else viewer_queries):
            response = client.get(path.format(object=obj))
        assert response.status_code == 200


# Each includes one query for the order check of shares and one for that of policies.
@pytest.mark.parametrize(("who", "queries"), [("manager", 28), ("staff", 26)])
def test_order_create_query_count(api, request, world, django_assert_num_queries, who, queries):
    body = {
        "project": f"http://testserver/api/projects/{world['project']}/",
        "offering": f"http://testserver/api/marketplace-offerings/{world['offering']}/",
        "plan": f"http://testserver/api/marketplace-plans/{world['plan']}/",
        "limits": {"cpu_k_hours": 10, "storage_tb": 1},
    }
    client = api.as_user(request.getfixturevalue(who))
    for name in ("First", "Second"):
        with django_assert_num_queries(queries):
            response = client.post("/api/marketplace-orders/", {**body, "attributes": {"name": name}}, format="json")
        assert response.status_code == 201, response.content
