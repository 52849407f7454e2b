"""One rule for who may see whom: every place that shows people shows no one /api/users/ hides.

The rule is `User.objects.visible_to`; these tests hold `list_users` on customers and projects,
the people named on orders and state changes, and the portal's member list to it.
"""

import pytest

from federation.models import RoleGrant, RoleName
from marketplace import services as market
from marketplace.models import OrderState
from tests.factories import CustomerFactory, UserFactory, catalogue_offering, grant

ACTORS = ["member", "manager", "owner", "customer_support", "outsider", "provider_owner", "support", "staff"]


@pytest.fixture
def customer_support(customer):
    """Holds the CUSTOMER.SUPPORT role on the organisation (not the global support flag)."""
    user = UserFactory(username="customer-support", email="helpdesk@acme.example.org")
    grant(user, customer, RoleName.CUSTOMER_SUPPORT)
    return user


@pytest.fixture
def provider_owner(db):
    provider = CustomerFactory(name="HPC Centre")
    user = UserFactory(username="provider-owner")
    grant(user, provider, RoleName.CUSTOMER_OWNER)
    return user


@pytest.fixture
def people(request, customer, project, member, manager, owner, customer_support, outsider, provider_owner,
           support, staff):  # fmt: skip
    return {name: request.getfixturevalue(name) for name in ACTORS}


def visible_usernames(client) -> set[str]:
    response = client.get("/api/users/", {"page_size": 200})
    assert response.status_code == 200
    return {u["username"] for u in response.json()}


def visible_uuids(client) -> set[str]:
    return {u["uuid"] for u in client.get("/api/users/", {"page_size": 200}).json()}


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("scope", ["customer", "project"])
def test_list_users_shows_no_one_the_users_list_hides(api, people, customer, project, actor, scope):
    client = api.as_user(people[actor])
    obj = customer if scope == "customer" else project
    response = client.get(f"/api/{scope}s/{obj.uuid}/list_users/", {"page_size": 200})
    if response.status_code == 404:  # the scope itself is invisible (outsider, provider owner)
        assert actor in {"outsider", "provider_owner"}
        return
    rows = response.json()
    assert {row["user_username"] for row in rows} <= visible_usernames(client)
    for row in rows:  # who made a grant is shown only when visible too
        assert row["created_by_uuid"] is None or row["created_by_uuid"] in visible_uuids(client)


def test_plain_member_does_not_see_the_organisations_owners_or_helpdesk(api, customer, project, member, manager,
                                                                        owner, customer_support):  # fmt: skip
    client = api.as_user(member)
    response = client.get(f"/api/customers/{customer.uuid}/list_users/")
    assert response.status_code == 200
    assert response.json() == []  # every grant on the customer is an owner's or the helpdesk's
    body = response.content.decode()
    assert owner.email not in body and customer_support.email not in body
    project_rows = client.get(f"/api/projects/{project.uuid}/list_users/").json()
    assert {row["user_username"] for row in project_rows} == {"member", "manager"}
    assert visible_usernames(client) == {"member", "manager"}
    assert client.get(f"/api/users/{owner.uuid}/").status_code == 404


def test_owner_and_global_readers_still_see_every_grant(api, customer, project, member, manager, owner, support):
    for viewer in (owner, support):
        rows = api.as_user(viewer).get(f"/api/customers/{customer.uuid}/list_users/").json()
        assert {row["user_username"] for row in rows} == {"owner"}
        rows = api.as_user(viewer).get(f"/api/projects/{project.uuid}/list_users/").json()
        assert {row["user_username"] for row in rows} == {"member", "manager"}


def test_who_made_a_grant_is_hidden_from_those_who_may_not_see_them(api, staff, project, member):
    """Staff added the newcomer: the member sees the grant but not who made it; staff sees both."""
    newcomer = UserFactory(username="newcomer")
    added = api.as_user(staff).post(
        f"/api/projects/{project.uuid}/add_user/",
        {"user": str(newcomer.uuid), "role": RoleName.PROJECT_MEMBER},
        format="json",
    )
    assert added.status_code == 201 and added.json()["created_by_uuid"] == str(staff.uuid)
    rows = {r["user_username"]: r for r in api.as_user(member).get(f"/api/projects/{project.uuid}/list_users/").json()}
    assert (rows["newcomer"]["created_by_uuid"], rows["newcomer"]["created_by_full_name"]) == (None, None)
    rows = {r["user_username"]: r for r in api.as_user(staff).get(f"/api/projects/{project.uuid}/list_users/").json()}
    assert rows["newcomer"]["created_by_full_name"] == staff.full_name


def test_update_user_answer_hides_an_invisible_granter(api, staff, project, manager, member):
    """A single grant (not a list) follows the rule as well: the manager may not see staff."""
    payload = {"user": str(member.uuid), "role": RoleName.PROJECT_MEMBER, "expiration_time": "2031-01-01T00:00:00Z"}
    RoleGrant.objects.filter(user=member).update(created_by=staff)
    response = api.as_user(manager).post(f"/api/projects/{project.uuid}/update_user/", payload, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["created_by_uuid"] is None


# --- people named on orders and their history --------------------------------------------------


@pytest.fixture
def ordered(people, project, owner):
    """The owner orders for the project from the provider's offering; the provider owner approves it."""
    provider = people["provider_owner"].role_grants.get().customer
    offering = catalogue_offering(customer=provider, name="HPC allocation")
    order = market.order_create(
        actor=owner,
        project=project,
        offering=offering,
        plan=offering.plans.get(),
        attributes={"name": "alloc"},
        limits={"cpu_k_hours": 10, "storage_tb": 1},
    )
    return market.order_approve_by_provider(order=order, actor=people["provider_owner"])


def _uuid_of(url):
    return url.rstrip("/").rsplit("/", 1)[-1] if url else None


@pytest.mark.parametrize("actor", ACTORS)
def test_people_named_on_orders_and_history_are_visible(api, people, ordered, actor):
    client = api.as_user(people[actor])
    visible = visible_uuids(client)
    named = set()
    for order in client.get("/api/marketplace-orders/", {"page_size": 200}).json():
        named |= {_uuid_of(order[f]) for f in ("created_by", "consumer_reviewed_by", "provider_reviewed_by")}
    for change in client.get("/api/marketplace-state-changes/", {"page_size": 200}).json():
        named.add(_uuid_of(change["actor"]))
    assert named - {None} <= visible


def test_who_acted_on_a_visible_order_is_visible(api, people, ordered, owner, member):
    """The member sees the owner who ordered for the project, and the provider owner who approved it."""
    assert ordered.state == OrderState.EXECUTING
    client = api.as_user(member)
    assert {"owner", "provider-owner"} <= visible_usernames(client)
    body = client.get(f"/api/marketplace-orders/{ordered.uuid}/").json()
    assert (body["created_by_username"], body["provider_reviewed_by_username"]) == ("owner", "provider-owner")
    # The provider's owner sees who ordered from them, but not the rest of the consumer's organisation.
    provider_view = visible_usernames(api.as_user(people["provider_owner"]))
    assert "owner" in provider_view and "member" not in provider_view and "customer-support" not in provider_view


# --- the portal --------------------------------------------------------------------------------


def test_portal_member_list_follows_the_rule(client, customer, project, member, manager, owner):
    grant(owner, project, RoleName.PROJECT_ADMIN)  # an owner who also holds a project role is a co-member
    client.force_login(member)
    page = client.get(f"/projects/{project.uuid}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert all(str(u) in text for u in (member, manager, owner))
