"""`/api/policies/`: who manages and who sees policies, a raised limit through the API, and a list that
costs the same queries at any length."""

import pytest

from accounting.policies.models import Policy, PolicyFiring
from tests.factories import ProjectFactory

POLICIES = "/api/policies/"
GPU = "gpu_hours"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _body(scope_type, scope, **overrides):
    body = {
        "scope_type": scope_type,
        "scope_uuid": str(scope.uuid),
        "kind": "usage",
        "component_type": GPU,
        "limit_usage": "100",
        "thresholds": [{"percent": 80, "actions": ["notify"]}, {"percent": 100, "actions": ["block_creation"]}],
    }
    body.update(overrides)
    return body


WRITERS = [
    # who, answer to a project policy of the project's customer
    ("staff", 201),
    ("owner", 201),
    ("manager", 403),  # sees the project, may not limit it
    ("member", 403),
    ("support", 403),  # reads everything, changes nothing
    ("outsider", 404),  # does not see the project
]


@pytest.mark.parametrize(("who", "status"), WRITERS, ids=[w[0] for w in WRITERS])
def test_staff_and_the_owners_add_policies(api, request, project, offering, who, status):
    user = request.getfixturevalue(who)
    response = api.as_user(user).post(POLICIES, _body("project", project), format="json")
    assert response.status_code == status, response.json()
    assert Policy.objects.count() == (1 if status == 201 else 0)
    if status == 201:
        body = response.json()
        assert (body["scope_type"], body["scope_uuid"], body["scope_name"]) == (
            "project",
            str(project.uuid),
            project.name,
        )
        assert (body["has_fired"], body["fired_datetime"], body["limit_usage"]) == (False, None, "100.0000000000")
        assert [t["percent"] for t in body["thresholds"]] == [80, 100]


READERS = [
    ("staff", True),
    ("support", True),
    ("owner", True),
    ("manager", True),
    ("member", True),
    ("outsider", False),
]


@pytest.mark.parametrize(("who", "sees"), READERS, ids=[r[0] for r in READERS])
def test_a_policy_is_seen_with_its_project(api, request, project, staff, add_policy, who, sees):
    policy = add_policy(staff, project, "notify")
    response = api.as_user(request.getfixturevalue(who)).get(POLICIES)
    assert [p["uuid"] for p in response.json()] == ([str(policy.uuid)] if sees else [])
    detail = api.get(f"{POLICIES}{policy.uuid}/")
    assert detail.status_code == (200 if sees else 404)


def test_raising_the_limit_through_the_api_lifts_the_block(api, project, offering, resource, owner, report):
    created = api.as_user(owner).post(POLICIES, _body("project", project), format="json").json()
    report(resource, 120)
    assert api.get(f"{POLICIES}{created['uuid']}/").json()["has_fired"] is True
    firings = api.get(f"{POLICIES}{created['uuid']}/firings/").json()
    assert sorted((f["threshold"], f["active"]) for f in firings) == [("100.00", True), ("80.00", True)]

    response = api.patch(f"{POLICIES}{created['uuid']}/", {"limit_usage": "1000"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["has_fired"] is False
    assert set(PolicyFiring.objects.values_list("active", "undo_reason")) == {(False, "limit_raised")}


def test_a_bad_change_is_a_400_naming_the_field_and_changes_nothing(api, project, owner, add_policy):
    policy = add_policy(owner, project, "notify")
    bad = {"thresholds": [{"percent": 80, "actions": ["shout"]}]}
    response = api.as_user(owner).patch(f"{POLICIES}{policy.uuid}/", bad, format="json")
    assert response.status_code == 400 and "thresholds" in response.json(), response.json()
    assert Policy.objects.get().thresholds == [{"percent": 100, "actions": ["notify"]}]


def test_deleting_through_the_api(api, project, owner, manager, add_policy):
    policy = add_policy(owner, project, "notify")
    assert api.as_user(manager).delete(f"{POLICIES}{policy.uuid}/").status_code == 403
    assert api.as_user(owner).delete(f"{POLICIES}{policy.uuid}/").status_code == 204
    assert not Policy.objects.exists()


def test_a_customer_and_an_offering_policy(api, customer, offering, staff, owner):
    response = api.as_user(owner).post(POLICIES, _body("customer", customer, kind="cost", limit_cost="500",
                                                       component_type="", limit_usage=None), format="json")  # fmt: skip
    assert response.status_code == 201, response.json()
    response = api.as_user(owner).post(POLICIES, _body("offering", offering), format="json")
    assert response.status_code in (403, 404), response.json()  # the owner of a consumer, not of the provider
    response = api.as_user(staff).post(POLICIES, _body("offering", offering, component_type="nope"), format="json")
    assert response.status_code == 400 and "component_type" in response.json(), response.json()


@pytest.mark.parametrize("count", [2, 12])
def test_the_list_costs_the_same_queries_at_any_length(
    api, customer, owner, add_policy, count, django_assert_num_queries
):
    for _ in range(count):
        add_policy(owner, ProjectFactory(customer=customer), "notify")
    api.as_user(owner)
    with django_assert_num_queries(3):  # the token, the count, the page
        response = api.get(POLICIES, {"page_size": 50})
    assert len(response.json()) == count


FILTERS = [
    # query, which of (the project's, the customer's, another customer's project's) policies are listed
    ({"customer_uuid": "customer"}, {"project", "customer"}),
    ({"project_uuid": "project"}, {"project"}),
    ({"scope_type": "customer"}, {"customer"}),
    ({"kind": "cost"}, {"customer"}),
    ({"has_fired": "true"}, {"project"}),
    ({"has_fired": "false"}, {"customer", "elsewhere"}),
]


@pytest.mark.parametrize(("query", "listed"), FILTERS, ids=[str(f[0]) for f in FILTERS])
def test_the_filters(api, customer, project, resource, staff, add_policy, report, query, listed):
    mine = {
        "project": add_policy(staff, project, "notify"),
        "customer": add_policy(staff, customer, "notify", kind="cost", limit_cost=10**6, component_type="",
                               limit_usage=None),
        "elsewhere": add_policy(staff, ProjectFactory(), "notify"),
    }  # fmt: skip
    report(resource, 150)
    names = {str(policy.uuid): name for name, policy in mine.items()}
    values = {"customer": str(customer.uuid), "project": str(project.uuid)}
    params = {key: values[value] if key.endswith("_uuid") else value for key, value in query.items()}
    response = api.as_user(staff).get(POLICIES, params)
    assert response.status_code == 200, response.json()
    assert {names[p["uuid"]] for p in response.json()} == listed
