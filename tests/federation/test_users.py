"""/api/users/, /api/users/me/ and /api/roles/."""

import pytest

from common.exceptions import PermissionDenied
from federation import identity
from federation.models import RoleName, User
from tests.factories import UserFactory

URL = "/api/users/"


def test_me(api, member):
    response = api.as_user(member).get(f"{URL}me/")
    assert response.status_code == 200
    body = response.json()
    assert body["uuid"] == str(member.uuid)
    assert body["url"] == f"http://testserver{URL}{member.uuid}/"
    assert body["username"] == "member"
    assert "password" not in body


def test_me_anonymous_is_401(api, db):
    assert api.get(f"{URL}me/").status_code == 401


def test_member_sees_self_and_people_sharing_a_scope(api, member, manager, owner, outsider):
    lonely = UserFactory(username="lonely")
    response = api.as_user(member).get(URL)
    usernames = [u["username"] for u in response.json()]
    # member shares the project with manager; the owner's role is on the customer, not shared with member.
    assert usernames == ["manager", "member"]
    assert api.as_user(member).get(f"{URL}{lonely.uuid}/").status_code == 404
    assert api.as_user(member).get(f"{URL}{manager.uuid}/").status_code == 200


def test_owner_sees_people_of_the_customer_and_its_projects(api, owner, member, manager, outsider):
    """The owner manages the customer's projects, so it sees their members (list_users shows them too)."""
    response = api.as_user(owner).get(URL)
    assert [u["username"] for u in response.json()] == ["manager", "member", "owner"]
    assert api.as_user(owner).get(f"{URL}{member.uuid}/").status_code == 200
    assert api.as_user(owner).get(f"{URL}{outsider.uuid}/").status_code == 404


def test_support_sees_everyone(api, support, member, outsider):
    response = api.as_user(support).get(URL)
    assert {"member", "outsider", "support"} <= {u["username"] for u in response.json()}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"username": "member"}, ["member"]),
        ({"username": "mem"}, []),
        ({"full_name": "ada"}, ["member"]),
        ({"email": "MANAGER@"}, ["manager"]),
        ({"cuid": "ada@myaccessid.org"}, ["member"]),
        ({"o": "-username"}, ["staff", "member", "manager"]),
    ],
)
def test_filters(api, staff, member, manager, query, expected):
    User.objects.filter(id=member.id).update(full_name="Ada Lovelace", cuid="ada@myaccessid.org")
    # The factory's random names could hold "ada" too ("Adam", "Canada"): the others get names that do not.
    User.objects.exclude(id=member.id).update(full_name="Grace Hopper")
    assert [u["username"] for u in api.as_user(staff).get(URL, query).json()] == expected


def test_bad_ordering_is_400(api, staff):
    assert api.as_user(staff).get(URL, {"o": "password"}).status_code == 400


def test_staff_creates_a_user_201(api, staff):
    response = api.as_user(staff).post(
        URL, {"username": "new", "full_name": None, "email": None, "cuid": "x@idp", "junk": 1}, format="json"
    )
    assert response.status_code == 201, response.json()
    user = User.objects.get(username="new")
    assert (user.cuid, user.has_usable_password()) == ("x@idp", False)


@pytest.mark.parametrize(("payload", "field"), [({"username": "staff"}, "username"), ({"cuid": "dup"}, "cuid")])
def test_create_duplicate_is_400(api, staff, payload, field):
    UserFactory(cuid="dup")
    response = api.as_user(staff).post(URL, {"username": "fresh", **payload}, format="json")
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize("who", ["support", "owner"])
def test_only_staff_creates_users(api, request, who):
    user = request.getfixturevalue(who)
    assert api.as_user(user).post(URL, {"username": "new"}, format="json").status_code == 403


@pytest.mark.parametrize("who", ["support", "owner", "member"])
def test_the_user_create_service_refuses_all_but_staff(request, who):
    """The rule lives in the service, so every caller (API, admin action, command) is held by it."""
    with pytest.raises(PermissionDenied, match="Only staff may create users"):
        identity.user_create(actor=request.getfixturevalue(who), username="new")
    assert not User.objects.filter(username="new").exists()


def test_the_user_create_service_creates_for_staff(staff):
    user = identity.user_create(actor=staff, username=" new ", cuid="new@idp")
    assert (user.username, user.cuid, user.has_usable_password()) == ("new", "new@idp", False)


def test_roles_list_and_detail(api, member):
    response = api.as_user(member).get("/api/roles/")
    assert response.status_code == 200
    names = [r["name"] for r in response.json()]
    assert names == sorted(RoleName.values)
    by_name = {r["name"]: r for r in response.json()}
    assert by_name["CUSTOMER.OWNER"]["scope_type"] == "customer"
    assert by_name["PROJECT.MEMBER"]["scope_type"] == "project"
    detail = api.as_user(member).get(f"/api/roles/{by_name['PROJECT.ADMIN']['uuid']}/")
    assert detail.status_code == 200
    assert detail.json()["name"] == "PROJECT.ADMIN"


def test_roles_need_authentication(api, db):
    assert api.get("/api/roles/").status_code == 401
