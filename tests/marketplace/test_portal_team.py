"""Team management on the portal's project page: managers and owners add people by e-mail address or CUID
with a role and an optional last day, and remove them; everyone else sees the list without controls."""

import html
from datetime import timedelta

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from federation.models import RoleGrant, RoleName
from tests.factories import CustomerFactory, UserFactory, grant
from tests.federation.servers import JsonHandler, serve


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(response) -> str:
    return html.unescape(response.content.decode())


def add(client, project, **data):
    return client.post(f"/projects/{project.uuid}/members/add/", {"role": RoleName.PROJECT_MEMBER, **data})


def active_roles(user, project) -> set[str]:
    return set(RoleGrant.objects.active().filter(user=user, project=project).values_list("role__name", flat=True))


@pytest.fixture
def ada(db):
    return UserFactory(username="ada", full_name="Ada Lovelace", email="ada@example.org", cuid="ada@myaccessid.org")


# --- who sees the controls -----------------------------------------------------------------------

# (viewer, role choices offered in the add form: None when there is no form)
CONTROLS = [
    ("manager", ["Project member", "Project admin"]),
    ("owner", ["Project member", "Project admin", "Project manager"]),
    ("staff", ["Project member", "Project admin", "Project manager"]),
    ("member", None),
    ("support", None),
]


@pytest.mark.parametrize(("who", "choices"), CONTROLS)
def test_the_add_form_and_remove_buttons_follow_who_may_grant(request, project, manager, member, who, choices):
    viewer = request.getfixturevalue(who)
    if who == "support":
        grant(viewer, project, RoleName.PROJECT_ADMIN)  # a read-only account, even with a role
    response = browser(viewer).get(f"/projects/{project.uuid}/")
    assert response.status_code == 200
    form = response.context["member_form"]
    if choices is None:
        assert form is None and "Add member" not in text(response) and ">Remove<" not in text(response)
        assert "The project's managers and the organisation's owners add and remove members." in text(response)
    else:
        assert [label for _, label in form.fields["role"].choices] == choices
        assert "Add member" in text(response)


def test_a_manager_may_remove_members_but_not_managers(project, manager, member):
    body = text(browser(manager).get(f"/projects/{project.uuid}/"))
    assert f'aria-label="Remove {member} (Project member)"' in body
    assert f'aria-label="Remove {manager} (Project manager)"' not in body


# --- adding --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "identifier", ["ada@example.org", "ADA@Example.org", "ada@myaccessid.org", " ada@example.org "]
)
def test_a_manager_adds_a_person_by_email_or_cuid(project, manager, ada, identifier):
    client = browser(manager)
    response = add(client, project, identifier=identifier)
    assert response.status_code == 302 and response["Location"] == f"/projects/{project.uuid}/"
    assert active_roles(ada, project) == {RoleName.PROJECT_MEMBER}
    page = text(client.get(response["Location"]))
    assert "Ada Lovelace added as project member." in page


def test_an_owner_adds_a_manager_until_a_day(project, owner, ada):
    last_day = timezone.localdate() + timedelta(days=30)
    response = add(browser(owner), project, identifier="ada@example.org", role=RoleName.PROJECT_MANAGER,
                   expires=last_day.isoformat())  # fmt: skip
    assert response.status_code == 302
    held = RoleGrant.objects.get(user=ada, project=project, is_active=True)
    assert held.role.name == RoleName.PROJECT_MANAGER
    assert timezone.localtime(held.expiration_time).date() == last_day  # until the end of that day
    assert timezone.localtime(held.expiration_time).time().isoformat() == "23:59:59.999999"


# (what is typed, the role asked, the field with the error, the error's words)
REFUSED = [
    ("nobody@example.org", RoleName.PROJECT_MEMBER, "identifier", "No account with the e-mail address or CUID"),
    ("who@myaccessid.org", RoleName.PROJECT_MEMBER, "identifier", "The person logs in once"),
    ("", RoleName.PROJECT_MEMBER, "identifier", "This field is required."),
    ("ada@example.org", RoleName.PROJECT_MANAGER, "role", "Select a valid choice."),  # managers grant no managers
    ("ada@example.org", RoleName.CUSTOMER_OWNER, "role", "Select a valid choice."),
]


@pytest.mark.parametrize(("identifier", "role", "field", "words"), REFUSED)
def test_a_refused_add_says_why_next_to_the_field(project, manager, ada, identifier, role, field, words):
    response = add(browser(manager), project, identifier=identifier, role=role)
    assert response.status_code == 400
    errors = response.context["member_form"].errors[field]
    assert any(words in error for error in errors), errors
    assert words in text(response)
    assert active_roles(ada, project) == set()


def test_a_day_in_the_past_is_refused_by_the_service(project, manager, ada):
    yesterday = timezone.localdate() - timedelta(days=1)
    response = add(browser(manager), project, identifier="ada@example.org", expires=yesterday.isoformat())
    assert response.status_code == 400
    assert response.context["member_form"].errors["expires"] == ["Expiration time must be in the future."]


def test_adding_someone_twice_is_refused(project, manager, member):
    response = add(browser(manager), project, identifier=member.email)
    assert response.status_code == 400
    assert response.context["member_form"].errors["identifier"] == ["User already has this role within this scope."]


def test_two_accounts_with_one_email_ask_for_the_cuid(project, manager, ada):
    UserFactory(username="ada2", email="Ada@example.org")
    response = add(browser(manager), project, identifier="ada@example.org")
    assert response.status_code == 400
    assert "give the person's CUID instead" in response.context["member_form"].errors["identifier"][0]


@pytest.mark.parametrize("who", ["member", "outsider", "support"])
def test_people_who_may_not_grant_cannot_add(request, project, ada, who):
    viewer = request.getfixturevalue(who)
    expected = 404 if who == "outsider" else 403  # the outsider does not see the project
    assert add(browser(viewer), project, identifier="ada@example.org").status_code == expected
    assert active_roles(ada, project) == set()


class Registry(JsonHandler):
    def do_GET(self):  # noqa: N802
        if self.path.endswith("grace%40myaccessid.org"):
            self.send_json(200, {"name": "Grace Hopper", "email": "grace@example.org"})
        else:
            self.send_json(404, {"detail": "not found"})


def test_staff_add_a_cuid_known_only_to_the_identity_registry(project, staff):
    with serve(Registry) as base, override_settings(IDENTITY_REGISTRY_URL=f"{base}/api/users/"):
        response = add(browser(staff), project, identifier="grace@myaccessid.org")
        assert response.status_code == 302
        refused = add(browser(staff), project, identifier="nobody@myaccessid.org")
    assert refused.status_code == 400 and "No account with" in refused.context["member_form"].errors["identifier"][0]
    grace = RoleGrant.objects.get(project=project).user
    assert (grace.cuid, grace.full_name) == ("grace@myaccessid.org", "Grace Hopper")


def test_a_manager_does_not_reach_the_identity_registry(project, manager):
    with serve(Registry) as base, override_settings(IDENTITY_REGISTRY_URL=f"{base}/api/users/"):
        response = add(browser(manager), project, identifier="grace@myaccessid.org")
    assert response.status_code == 400 and not RoleGrant.objects.filter(project=project).exclude(user=manager)


# --- removing ------------------------------------------------------------------------------------


def remove(client, project, held):
    return client.post(f"/projects/{project.uuid}/members/{held.uuid}/remove/")


def test_a_manager_removes_a_member(project, manager, member):
    held = RoleGrant.objects.get(user=member, project=project)
    client = browser(manager)
    response = remove(client, project, held)
    assert response.status_code == 302
    assert active_roles(member, project) == set()
    page = text(client.get(response["Location"]))
    assert f"{member} removed (project member)." in page and f"Remove {member}" not in page


def test_a_manager_may_not_remove_a_manager(project, manager):
    other = UserFactory(username="other-manager")
    held = grant(other, project, RoleName.PROJECT_MANAGER)
    response = remove(browser(manager), project, held)
    assert response.status_code == 403 and "You may not revoke PROJECT.MANAGER here." in text(response)
    assert active_roles(other, project) == {RoleName.PROJECT_MANAGER}


def test_a_member_may_not_remove_anyone_and_other_projects_grants_are_404(project, manager, member):
    held = RoleGrant.objects.get(user=manager, project=project)
    assert remove(browser(member), project, held).status_code == 403
    elsewhere = grant(UserFactory(), CustomerFactory(), RoleName.CUSTOMER_OWNER)
    assert remove(browser(manager), project, elsewhere).status_code == 404
    assert browser(manager).get(f"/projects/{project.uuid}/members/{held.uuid}/remove/").status_code == 405
    assert active_roles(manager, project) == {RoleName.PROJECT_MANAGER}


@pytest.mark.parametrize("extra_members", [0, 12])
def test_the_project_page_asks_a_fixed_number_of_queries_whatever_the_team(
    project, manager, django_assert_num_queries, extra_members
):
    for _ in range(extra_members):
        grant(UserFactory(), project, RoleName.PROJECT_MEMBER, expiration_time=timezone.now() + timedelta(days=9))
    client = browser(manager)
    # session, user, project, grantable roles, members, resources
    with django_assert_num_queries(6):
        response = client.get(f"/projects/{project.uuid}/")
    assert response.status_code == 200
    assert text(response).count(">Remove<") == extra_members  # every member but the manager themself
