"""add_user / delete_user / update_user / list_users on customers and projects."""

from datetime import timedelta

import pytest
from django.utils import timezone

from federation.models import Role, RoleGrant, RoleName
from tests.factories import UserFactory, grant


@pytest.fixture
def newcomer(db):
    return UserFactory(username="newcomer", full_name="New Comer")


def scope_url(scope, action: str) -> str:
    kind = "customers" if scope.__class__.__name__ == "Customer" else "projects"
    return f"/api/{kind}/{scope.uuid}/{action}/"


def test_add_user_201_by_role_name(api, staff, project, newcomer):
    response = api.as_user(staff).post(
        scope_url(project, "add_user"),
        {"user": str(newcomer.uuid), "role": "PROJECT.MEMBER", "extra": "ignored"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["user_uuid"] == str(newcomer.uuid)
    assert body["user"] == f"http://testserver/api/users/{newcomer.uuid}/"
    assert body["role"] == "PROJECT.MEMBER"
    assert body["created_by_uuid"] == str(staff.uuid)
    assert body["expiration_time"] is None
    grant_row = RoleGrant.objects.get(user=newcomer)
    assert (grant_row.project, grant_row.created_by, grant_row.is_active) == (project, staff, True)


def test_add_user_by_role_uuid_and_user_url_with_expiration(api, staff, customer, newcomer):
    role = Role.objects.get(name=RoleName.CUSTOMER_SUPPORT)
    expires = timezone.now() + timedelta(days=30)
    response = api.as_user(staff).post(
        scope_url(customer, "add_user"),
        {
            "user": f"http://testserver/api/users/{newcomer.uuid}/",
            "role": str(role.uuid),
            "expiration_time": expires.isoformat(),
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert RoleGrant.objects.get(user=newcomer).expiration_time == expires


def test_add_user_accepts_null_expiration(api, staff, project, newcomer):
    payload = {"user": str(newcomer.uuid), "role": "PROJECT.ADMIN", "expiration_time": None}
    assert api.as_user(staff).post(scope_url(project, "add_user"), payload, format="json").status_code == 201


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"role": "PROJECT.MEMBER"}, "user"),
        ({"user": "00000000-0000-0000-0000-000000000001", "role": "PROJECT.MEMBER"}, "user"),
        ({"user": "nonsense", "role": "PROJECT.MEMBER"}, "user"),
        ({"user": "NEWCOMER", "role": "PROJECT.WIZARD"}, "role"),
        ({"user": "NEWCOMER", "role": "CUSTOMER.OWNER"}, "role"),  # a customer role on a project
        ({"user": "NEWCOMER", "role": "PROJECT.MEMBER", "expiration_time": "2001-01-01T00:00:00Z"}, "expiration_time"),
        ({"user": "NEWCOMER", "role": "PROJECT.MEMBER", "expiration_time": "soon"}, "expiration_time"),
    ],
)
def test_add_user_bad_input_is_400_naming_the_field(api, staff, project, newcomer, payload, field):
    payload = {k: str(newcomer.uuid) if v == "NEWCOMER" else v for k, v in payload.items()}
    response = api.as_user(staff).post(scope_url(project, "add_user"), payload, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_project_role_on_customer_is_400(api, staff, customer, newcomer):
    payload = {"user": str(newcomer.uuid), "role": "PROJECT.MANAGER"}
    response = api.as_user(staff).post(scope_url(customer, "add_user"), payload, format="json")
    assert response.status_code == 400
    assert "role" in response.json()


def test_adding_twice_is_400(api, staff, project, member):
    payload = {"user": str(member.uuid), "role": "PROJECT.MEMBER"}
    response = api.as_user(staff).post(scope_url(project, "add_user"), payload, format="json")
    assert response.status_code == 400
    assert "user" in response.json()


def test_one_user_may_hold_several_roles(api, staff, project, member):
    payload = {"user": str(member.uuid), "role": "PROJECT.ADMIN"}
    assert api.as_user(staff).post(scope_url(project, "add_user"), payload, format="json").status_code == 201
    assert RoleGrant.objects.active().filter(user=member, project=project).count() == 2


def test_delete_user_200(api, owner, project, member):
    payload = {"user": str(member.uuid), "role": "PROJECT.MEMBER"}
    response = api.as_user(owner).post(scope_url(project, "delete_user"), payload, format="json")
    assert response.status_code == 200
    assert not RoleGrant.objects.active().filter(user=member).exists()
    assert RoleGrant.objects.filter(user=member, is_active=False).exists()  # history is kept
    assert api.as_user(member).get(f"/api/projects/{project.uuid}/").status_code == 404


def test_delete_user_without_that_role_is_400(api, owner, project, member):
    payload = {"user": str(member.uuid), "role": "PROJECT.ADMIN"}
    response = api.as_user(owner).post(scope_url(project, "delete_user"), payload, format="json")
    assert response.status_code == 400
    assert "user" in response.json()


def test_delete_then_add_again(api, staff, project, member):
    client = api.as_user(staff)
    payload = {"user": str(member.uuid), "role": "PROJECT.MEMBER"}
    assert client.post(scope_url(project, "delete_user"), payload, format="json").status_code == 200
    assert client.post(scope_url(project, "add_user"), payload, format="json").status_code == 201


def test_update_user_changes_the_expiration_200(api, owner, project, member):
    expires = timezone.now() + timedelta(days=7)
    payload = {"user": str(member.uuid), "role": "PROJECT.MEMBER", "expiration_time": expires.isoformat()}
    response = api.as_user(owner).post(scope_url(project, "update_user"), payload, format="json")
    assert response.status_code == 200
    assert response.json()["expiration_time"] is not None
    assert RoleGrant.objects.get(user=member).expiration_time == expires
    payload["expiration_time"] = None
    assert api.as_user(owner).post(scope_url(project, "update_user"), payload, format="json").status_code == 200
    assert RoleGrant.objects.get(user=member).expiration_time is None


def test_update_user_to_the_past_is_400(api, owner, project, member):
    payload = {"user": str(member.uuid), "role": "PROJECT.MEMBER", "expiration_time": "2000-01-01T00:00:00Z"}
    response = api.as_user(owner).post(scope_url(project, "update_user"), payload, format="json")
    assert response.status_code == 400
    assert "expiration_time" in response.json()


def test_update_user_without_the_role_is_400(api, owner, project, newcomer):
    payload = {"user": str(newcomer.uuid), "role": "PROJECT.MEMBER", "expiration_time": None}
    assert api.as_user(owner).post(scope_url(project, "update_user"), payload, format="json").status_code == 400


def test_manager_may_not_extend_a_manager(api, manager, project):
    other = UserFactory()
    grant(other, project, RoleName.PROJECT_MANAGER)
    payload = {"user": str(other.uuid), "role": "PROJECT.MANAGER", "expiration_time": None}
    assert api.as_user(manager).post(scope_url(project, "update_user"), payload, format="json").status_code == 403


def test_list_users_with_role_filter(api, owner, customer, project, member, manager):
    client = api.as_user(owner)
    rows = client.get(scope_url(project, "list_users")).json()
    assert sorted(r["user_username"] for r in rows) == ["manager", "member"]
    rows = client.get(scope_url(project, "list_users"), {"role": "PROJECT.MANAGER"}).json()
    assert [r["user_username"] for r in rows] == ["manager"]
    role = Role.objects.get(name=RoleName.PROJECT_MEMBER)
    rows = client.get(scope_url(project, "list_users"), {"role": str(role.uuid)}).json()
    assert [r["user_username"] for r in rows] == ["member"]
    assert client.get(scope_url(project, "list_users"), {"role": "NOPE"}).json() == []
    rows = client.get(scope_url(customer, "list_users")).json()
    assert [(r["user_username"], r["role"]) for r in rows] == [("owner", "CUSTOMER.OWNER")]


def test_list_users_by_user_and_paginated(api, staff, project, member, manager):
    client = api.as_user(staff)
    rows = client.get(scope_url(project, "list_users"), {"user": str(member.uuid)}).json()
    assert [r["user_username"] for r in rows] == ["member"]
    response = client.get(scope_url(project, "list_users"), {"page_size": 1})
    assert len(response.json()) == 1
    assert response["X-Result-Count"] == "2"
    assert 'rel="next"' in response["Link"]


def test_list_users_bad_user_uuid_is_400(api, staff, project):
    response = api.as_user(staff).get(scope_url(project, "list_users"), {"user": "not-a-uuid"})
    assert response.status_code == 400
    assert "user" in response.json()


def test_membership_on_unknown_scope_is_404(api, staff, newcomer):
    url = "/api/projects/00000000-0000-0000-0000-000000000009/add_user/"
    payload = {"user": str(newcomer.uuid), "role": "PROJECT.MEMBER"}
    assert api.as_user(staff).post(url, payload, format="json").status_code == 404
