"""Who may read, change and manage membership of customers and projects; expired roles give nothing.

401 anonymous, 404 when the object is not visible, 403 when visible but not allowed. Global support
reads everything and changes nothing.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from federation import hooks, services, tasks
from federation.models import RoleGrant, RoleName
from tests.factories import ProjectFactory, UserFactory, grant

ACTORS = ["anonymous", "outsider", "member", "manager", "owner", "support", "staff"]


@pytest.fixture
def actors(request, project, customer):
    """All actors exist in every test, so visibility is tested against real neighbours."""
    return {name: None if name == "anonymous" else request.getfixturevalue(name) for name in ACTORS}


def expect(table: dict) -> list:
    return [pytest.param(actor, table[actor], id=actor) for actor in ACTORS]


def call(api, actors, actor, method, url, data=None):
    client = api.as_user(actors[actor])
    return getattr(client, method)(url, data, format="json") if data is not None else getattr(client, method)(url)


READ_PROJECT = {"anonymous": 401, "outsider": 404, "member": 200, "manager": 200, "owner": 200, "support": 200,
                "staff": 200}  # fmt: skip
READ_CUSTOMER = READ_PROJECT
UPDATE_PROJECT = {**READ_PROJECT, "member": 403, "support": 403}
UPDATE_CUSTOMER = {**READ_PROJECT, "member": 403, "manager": 403, "support": 403}
DELETE_PROJECT = {"anonymous": 401, "outsider": 404, "member": 403, "manager": 403, "owner": 204, "support": 403,
                  "staff": 204}  # fmt: skip
DELETE_CUSTOMER = {**DELETE_PROJECT, "owner": 403, "support": 403, "staff": 409}  # it still has a project
ADD_PROJECT_MEMBER = {**UPDATE_PROJECT, "manager": 201, "owner": 201, "staff": 201}
ADD_PROJECT_MANAGER = {**ADD_PROJECT_MEMBER, "manager": 403}
ADD_CUSTOMER_OWNER = {**UPDATE_CUSTOMER, "owner": 201, "staff": 201}
LIST_PROJECT_USERS = READ_PROJECT
LIST_CUSTOMER_USERS = READ_CUSTOMER
# The outsider cannot see the customer, so for them it "does not exist": a 400 on the customer field.
CREATE_PROJECT = {"anonymous": 401, "outsider": 400, "member": 403, "manager": 403, "owner": 201, "support": 403,
                  "staff": 201}  # fmt: skip
CREATE_CUSTOMER = {"anonymous": 401, "outsider": 403, "member": 403, "manager": 403, "owner": 403, "support": 403,
                   "staff": 201}  # fmt: skip


@pytest.mark.parametrize(("actor", "status"), expect(READ_PROJECT))
def test_read_project(api, actors, project, actor, status):
    assert call(api, actors, actor, "get", f"/api/projects/{project.uuid}/").status_code == status


@pytest.mark.parametrize(("actor", "status"), expect(READ_CUSTOMER))
def test_read_customer(api, actors, customer, actor, status):
    assert call(api, actors, actor, "get", f"/api/customers/{customer.uuid}/").status_code == status


@pytest.mark.parametrize(("actor", "status"), expect(UPDATE_PROJECT))
def test_update_project(api, actors, project, actor, status):
    response = call(api, actors, actor, "patch", f"/api/projects/{project.uuid}/", {"description": "changed"})
    assert response.status_code == status
    project.refresh_from_db()
    assert (project.description == "changed") == (status == 200)


@pytest.mark.parametrize(("actor", "status"), expect(UPDATE_CUSTOMER))
def test_update_customer(api, actors, customer, actor, status):
    response = call(api, actors, actor, "patch", f"/api/customers/{customer.uuid}/", {"email": "new@acme.org"})
    assert response.status_code == status
    customer.refresh_from_db()
    assert (customer.email == "new@acme.org") == (status == 200)


@pytest.mark.parametrize(("actor", "status"), expect(DELETE_PROJECT))
def test_delete_project(api, actors, customer, actor, status):
    doomed = ProjectFactory(customer=customer)
    grant(actors["member"], doomed, RoleName.PROJECT_MEMBER)
    grant(actors["manager"], doomed, RoleName.PROJECT_MANAGER)
    assert call(api, actors, actor, "delete", f"/api/projects/{doomed.uuid}/").status_code == status


@pytest.mark.parametrize(("actor", "status"), expect(DELETE_CUSTOMER))
def test_delete_customer(api, actors, customer, actor, status):
    assert call(api, actors, actor, "delete", f"/api/customers/{customer.uuid}/").status_code == status


@pytest.mark.parametrize(("actor", "status"), expect(CREATE_PROJECT))
def test_create_project(api, actors, customer, actor, status):
    payload = {"customer": str(customer.uuid), "name": "New"}
    assert call(api, actors, actor, "post", "/api/projects/", payload).status_code == status


@pytest.mark.parametrize(("actor", "status"), expect(CREATE_CUSTOMER))
def test_create_customer(api, actors, actor, status):
    assert call(api, actors, actor, "post", "/api/customers/", {"name": "New"}).status_code == status


@pytest.mark.parametrize(("actor", "status"), expect(ADD_PROJECT_MEMBER))
def test_add_project_member(api, actors, project, actor, status):
    newcomer = UserFactory()
    payload = {"user": str(newcomer.uuid), "role": RoleName.PROJECT_MEMBER}
    assert call(api, actors, actor, "post", f"/api/projects/{project.uuid}/add_user/", payload).status_code == status
    assert RoleGrant.objects.filter(user=newcomer, project=project).exists() == (status == 201)


@pytest.mark.parametrize(("actor", "status"), expect(ADD_PROJECT_MANAGER))
def test_add_project_manager(api, actors, project, actor, status):
    payload = {"user": str(UserFactory().uuid), "role": RoleName.PROJECT_MANAGER}
    assert call(api, actors, actor, "post", f"/api/projects/{project.uuid}/add_user/", payload).status_code == status


@pytest.mark.parametrize(("actor", "status"), expect(ADD_CUSTOMER_OWNER))
def test_add_customer_owner(api, actors, customer, actor, status):
    payload = {"user": str(UserFactory().uuid), "role": RoleName.CUSTOMER_OWNER}
    url = f"/api/customers/{customer.uuid}/add_user/"
    assert call(api, actors, actor, "post", url, payload).status_code == status


@pytest.mark.parametrize(("actor", "status"), expect({**ADD_PROJECT_MEMBER, "manager": 200, "owner": 200,
                                                       "staff": 200}))  # fmt: skip
def test_remove_project_member(api, actors, project, actor, status):
    payload = {"user": str(actors["member"].uuid), "role": RoleName.PROJECT_MEMBER}
    response = call(api, actors, actor, "post", f"/api/projects/{project.uuid}/delete_user/", payload)
    assert response.status_code == status


@pytest.mark.parametrize(("actor", "status"), expect({**ADD_PROJECT_MANAGER, "owner": 200, "staff": 200}))
def test_remove_project_manager(api, actors, project, actor, status):
    payload = {"user": str(actors["manager"].uuid), "role": RoleName.PROJECT_MANAGER}
    response = call(api, actors, actor, "post", f"/api/projects/{project.uuid}/delete_user/", payload)
    assert response.status_code == status


@pytest.mark.parametrize(("actor", "status"), expect(LIST_PROJECT_USERS))
def test_list_project_users(api, actors, project, actor, status):
    assert call(api, actors, actor, "get", f"/api/projects/{project.uuid}/list_users/").status_code == status


@pytest.mark.parametrize(("actor", "status"), expect(LIST_CUSTOMER_USERS))
def test_list_customer_users(api, actors, customer, actor, status):
    assert call(api, actors, actor, "get", f"/api/customers/{customer.uuid}/list_users/").status_code == status


@pytest.mark.parametrize("actor", ACTORS[1:])
def test_lists_show_exactly_what_is_visible(api, actors, project, actor):
    other = ProjectFactory()
    projects = {p["uuid"] for p in call(api, actors, actor, "get", "/api/projects/?page_size=200").json()}
    customers = {c["uuid"] for c in call(api, actors, actor, "get", "/api/customers/?page_size=200").json()}
    sees_all = actor in {"support", "staff"}
    assert (str(project.uuid) in projects) == (actor != "outsider")
    assert (str(other.uuid) in projects) == sees_all
    assert (str(project.customer.uuid) in customers) == (actor != "outsider")
    assert (str(other.customer.uuid) in customers) == sees_all


# --- expired roles -----------------------------------------------------------------------------


def expire(user, **scope) -> None:
    """Set the expiration time in the past directly, as if time had passed, leaving is_active alone."""
    RoleGrant.objects.filter(user=user, **scope).update(expiration_time=timezone.now() - timedelta(seconds=1))


def test_expired_member_loses_access_at_once(api, member, project):
    client = api.as_user(member)
    assert client.get(f"/api/projects/{project.uuid}/").status_code == 200
    expire(member, project=project)
    assert RoleGrant.objects.get(user=member).is_active  # not yet swept: access stops anyway
    assert client.get(f"/api/projects/{project.uuid}/").status_code == 404
    assert client.get(f"/api/customers/{project.customer.uuid}/").status_code == 404
    assert client.get("/api/projects/").json() == []


def test_expired_manager_may_not_change_or_grant(api, manager, project):
    client = api.as_user(manager)
    expire(manager, project=project)
    assert client.patch(f"/api/projects/{project.uuid}/", {"name": "x"}, format="json").status_code == 404
    payload = {"user": str(UserFactory().uuid), "role": RoleName.PROJECT_MEMBER}
    assert client.post(f"/api/projects/{project.uuid}/add_user/", payload, format="json").status_code == 404


def test_expired_owner_keeps_only_what_other_roles_give(api, owner, customer, project):
    grant(owner, project, RoleName.PROJECT_MEMBER)
    expire(owner, customer=customer)
    client = api.as_user(owner)
    assert client.get(f"/api/customers/{customer.uuid}/").status_code == 200  # through the project role
    assert client.patch(f"/api/customers/{customer.uuid}/", {"email": "a@b.org"}, format="json").status_code == 403
    assert client.patch(f"/api/projects/{project.uuid}/", {"name": "x"}, format="json").status_code == 403


def test_role_that_expires_in_the_future_still_works(api, member, project):
    RoleGrant.objects.filter(user=member).update(expiration_time=timezone.now() + timedelta(minutes=5))
    assert api.as_user(member).get(f"/api/projects/{project.uuid}/").status_code == 200


def test_expired_roles_are_not_listed(api, staff, member, manager, project):
    expire(member, project=project)
    users = api.as_user(staff).get(f"/api/projects/{project.uuid}/list_users/").json()
    assert [u["user_uuid"] for u in users] == [str(manager.uuid)]


def test_deactivate_expired_roles_service(member, manager, project):
    removed = []

    def listener(*, grant, action):
        removed.append((grant.user_id, action))

    hooks.register_membership_listener(listener)
    try:
        expire(member, project=project)
        assert services.roles_deactivate_expired() == 1
        assert removed == [(member.id, "remove")]
        assert not RoleGrant.objects.get(user=member).is_active
        assert RoleGrant.objects.get(user=manager).is_active
        assert services.roles_deactivate_expired() == 0  # idempotent
    finally:
        hooks._membership_listeners.remove(listener)


def test_deactivate_expired_roles_task_body(member, project):
    expire(member, project=project)
    assert tasks.deactivate_expired_roles() == 1
    assert not RoleGrant.objects.filter(user=member, is_active=True).exists()


def test_expired_grant_does_not_block_a_new_one(api, staff, member, project):
    expire(member, project=project)
    payload = {"user": str(member.uuid), "role": RoleName.PROJECT_MEMBER}
    response = api.as_user(staff).post(f"/api/projects/{project.uuid}/add_user/", payload, format="json")
    assert response.status_code == 201
    assert api.as_user(member).get(f"/api/projects/{project.uuid}/").status_code == 200
