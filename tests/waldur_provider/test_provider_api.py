"""The provider side of Waldur's API: a provider's service account sees and acts on its own offerings'
orders and resources only; everyone else's answer 404 and change nothing."""

import pytest

from federation import services as structure
from federation.models import Role, RoleName
from marketplace.models import Order, Resource
from providers.models import OutboxMessage
from tests.factories import ProviderFactory, ProviderOfferingFactory, UserFactory, grant

pytestmark = pytest.mark.django_db


def _get(api, user, path, **params):
    return api.as_user(user).get(path, params)


def _post(api, user, path, body=None):
    return api.as_user(user).post(path, body, format="json")


def _snapshot():
    return (
        list(Order.objects.order_by("id").values_list("state", "provider_reviewed_by_id")),
        list(Resource.objects.order_by("id").values_list("state", "backend_id", "limits")),
    )


# -- who may: provider A's agent gets 404 for everything of provider B -------------------------------


def _paths_of(site):
    offering, resource, order = site.offering.uuid, site.resource.uuid.hex, site.order.uuid
    return {
        "offering": ("get", f"/api/marketplace-provider-offerings/{offering}/", None),
        "resource": ("get", f"/api/marketplace-provider-resources/{resource}/", None),
        "team": ("get", f"/api/marketplace-provider-resources/{resource}/team/", None),
        "set_backend_id": (
            "post",
            f"/api/marketplace-provider-resources/{resource}/set_backend_id/",
            {"backend_id": "x"},
        ),
        "set_limits": ("post", f"/api/marketplace-provider-resources/{resource}/set_limits/", {"limits": {"cpu": 1}}),
        "order": ("get", f"/api/marketplace-orders/{order}/", None),
        "approve": ("post", f"/api/marketplace-orders/{order}/approve_by_provider/", {}),
        "identity": ("post", "/api/marketplace-site-agent-identities/", {"offering": str(offering), "name": "agent-x"}),
        "user_attribute_config": (
            "get",
            f"/api/marketplace-provider-offerings/{offering}/user-attribute-config/",
            None,
        ),
    }


@pytest.mark.parametrize(
    "name",
    [
        "offering",
        "resource",
        "team",
        "set_backend_id",
        "set_limits",
        "order",
        "approve",
        "identity",
        "user_attribute_config",
    ],
)
def test_an_agent_gets_404_for_another_providers_objects_and_changes_nothing(api, site_a, site_b, name):
    method, path, body = _paths_of(site_b)[name]
    before = _snapshot()
    answer = _post(api, site_a.agent, path, body) if method == "post" else _get(api, site_a.agent, path)
    assert answer.status_code == 404, answer.content
    assert _snapshot() == before
    # ... while the same request for its own objects is answered.
    method, path, body = _paths_of(site_a)[name]
    answer = _post(api, site_a.agent, path, body) if method == "post" else _get(api, site_a.agent, path)
    assert answer.status_code in (200, 201), answer.content


def test_lists_hold_only_the_agents_own_offerings_orders_resources_and_users(api, site_a, site_b):
    agent = site_a.agent
    assert [o["uuid"] for o in _get(api, agent, "/api/marketplace-provider-offerings/").json()] == [
        str(site_a.offering.uuid)
    ]
    resources = _get(api, agent, "/api/marketplace-provider-resources/").json()
    assert [r["uuid"] for r in resources] == [str(site_a.resource.uuid)]
    foreign = _get(api, agent, "/api/marketplace-orders/", offering_uuid=site_b.offering.uuid.hex).json()
    assert foreign == []
    users = _get(api, agent, "/api/marketplace-offering-users/").json()
    assert {u["offering_uuid"] for u in users} == {str(site_a.offering.uuid)}
    foreign_users = _get(api, agent, "/api/marketplace-offering-users/", offering_uuid=site_b.offering.uuid).json()
    assert foreign_users == []
    providers = _get(api, agent, "/api/marketplace-service-providers/", customer_uuid=site_b.customer.uuid.hex)
    assert providers.json() == []


def test_an_offering_user_stays_after_the_role_ends_and_leaves_the_team(api, site_a, research):
    """An agent told of a revoked role looks the person up among the offering users to remove their
    access: they stay there (as in Waldur), while the resource's team drops them."""
    member = UserFactory(username="leaver")
    role = Role.objects.get(name=RoleName.PROJECT_MEMBER)
    structure.role_grant(actor=research.manager, scope=research.project, user=member, role=role)
    structure.role_revoke(actor=research.manager, scope=research.project, user=member, role=role)
    agent, path = site_a.agent, "/api/marketplace-offering-users/"
    users = _get(api, agent, path, user_uuid=member.uuid.hex, offering_uuid=site_a.offering.uuid).json()
    assert [(u["username"], u["state"]) for u in users] == [("leaver", "OK")]
    team = _get(api, agent, f"/api/marketplace-provider-resources/{site_a.resource.uuid}/team/").json()
    assert "leaver" not in {person["username"] for person in team}


def test_people_who_do_not_own_the_provider_see_nothing_of_it(api, site_a, research):
    manager = research.manager  # placed the order, but provides nothing
    assert _get(api, manager, "/api/marketplace-provider-resources/").json() == []
    assert _get(api, manager, f"/api/marketplace-provider-resources/{site_a.resource.uuid}/").status_code == 404
    before = _snapshot()
    answer = _post(
        api, manager, f"/api/marketplace-provider-resources/{site_a.resource.uuid}/set_backend_id/", {"backend_id": "x"}
    )
    assert answer.status_code == 404
    assert _snapshot() == before


def test_support_reads_but_may_not_report(api, site_a, support):
    assert _get(api, support, f"/api/marketplace-provider-resources/{site_a.resource.uuid}/").status_code == 200
    before = _snapshot()
    answer = _post(
        api, support, f"/api/marketplace-provider-resources/{site_a.resource.uuid}/set_backend_id/", {"backend_id": "x"}
    )
    assert answer.status_code == 403
    assert _snapshot() == before


def test_offerings_a_push_provider_runs_are_not_served(api, site_a):
    ProviderOfferingFactory(offering=site_a.offering, provider=ProviderFactory(customer=site_a.customer))
    assert _get(api, site_a.agent, f"/api/marketplace-provider-offerings/{site_a.offering.uuid}/").status_code == 404
    assert _get(api, site_a.agent, "/api/marketplace-provider-resources/").json() == []


# -- the agent's calls, in the shapes it parses ------------------------------------------------------


def test_approve_answers_detail_then_the_order_is_done_with_no_body(api, site_a):
    order = site_a.order.uuid.hex  # the agent sends uuids without dashes
    approved = _post(api, site_a.agent, f"/api/marketplace-orders/{order}/approve_by_provider/", {})
    assert approved.status_code == 200
    assert isinstance(approved.json()["detail"], str) and approved.json()["state"] == "executing"
    assert not OutboxMessage.objects.exists()  # the relay pushes nothing: the agent pulls

    resource = f"/api/marketplace-provider-resources/{site_a.resource.uuid}"
    answer = _post(api, site_a.agent, f"{resource}/set_backend_id/", {"backend_id": "hpc_alpha"})
    assert (answer.status_code, answer.json()) == (200, {"status": "OK"})
    answer = _post(api, site_a.agent, f"{resource}/set_limits/", {"limits": {"cpu": 7, "mem": 3}})
    assert (answer.status_code, answer.json()) == (200, {"status": "OK"})

    done = api.as_user(site_a.agent).post(f"/api/marketplace-orders/{site_a.order.uuid}/set_state_done/")
    assert done.status_code == 200, done.content
    site_a.resource.refresh_from_db()
    assert (site_a.resource.state, site_a.resource.backend_id) == ("OK", "hpc_alpha")
    assert site_a.resource.limits == {"cpu": 7}  # `mem` is no component of the offering


def test_limits_must_be_whole_and_not_negative(api, site_a):
    path = f"/api/marketplace-provider-resources/{site_a.resource.uuid}/set_limits/"
    for bad in ({"cpu": -1}, {"cpu": 1.5}, {"cpu": "many"}):
        answer = _post(api, site_a.agent, path, {"limits": bad})
        assert answer.status_code == 400, answer.content
    site_a.resource.refresh_from_db()
    assert site_a.resource.limits == {"cpu": 10}


def test_resource_detail_carries_what_the_slurm_plugin_needs(api, site_a):
    body = _get(api, site_a.agent, f"/api/marketplace-provider-resources/{site_a.resource.uuid.hex}/").json()
    assert body["state"] == "Creating"
    assert body["project_slug"] == "genomics" and body["customer_slug"] == site_a.resource.project.customer.slug
    assert body["offering_plugin_options"] == {"username_generation_policy": "waldur_username"}
    assert body["limits"] == {"cpu": 10}


def test_sparse_fieldsets(api, site_a):
    path = f"/api/marketplace-provider-offerings/{site_a.offering.uuid}/"
    body = api.as_user(site_a.agent).get(f"{path}?field=components&field=customer_uuid").json()
    assert set(body) == {"components", "customer_uuid"}
    (component,) = body["components"]
    assert component["type"] == "cpu" and component["billing_type"] == "limit" and component["limit_period"] is None
    rows = api.as_user(site_a.agent).get("/api/marketplace-provider-resources/?field=uuid,backend_id").json()
    assert [set(row) for row in rows] == [{"uuid", "backend_id"}]


def test_team_names_each_member_with_their_site_username(api, site_a, research):
    project = research.project
    member = UserFactory(username="alice")
    grant(member, project, RoleName.PROJECT_MEMBER)
    team = _get(api, site_a.agent, f"/api/marketplace-provider-resources/{site_a.resource.uuid}/team/").json()
    assert {(m["username"], m["role"], m["offering_user_username"], m["offering_user_state"]) for m in team} == {
        ("pm", "PROJECT.MANAGER", "pm", "OK"),
        ("alice", "PROJECT.MEMBER", "alice", "OK"),
    }


def test_identity_service_and_processor_are_answered_the_same_every_time(api, site_a):
    agent, offering = site_a.agent, site_a.offering
    name = f"agent-{offering.uuid.hex}"
    found = _get(api, agent, "/api/marketplace-site-agent-identities/", name=name).json()
    created = _post(
        api, agent, "/api/marketplace-site-agent-identities/", {"offering": offering.uuid.hex, "name": name}
    )
    assert created.status_code == 201
    identity = created.json()["uuid"]
    assert [i["uuid"] for i in found] == [identity]
    updated = api.as_user(agent).put(
        f"/api/marketplace-site-agent-identities/{identity}/",
        {"offering": str(offering.uuid), "name": name},
        format="json",
    )
    assert updated.status_code == 200 and updated.json()["uuid"] == identity
    service = _post(
        api,
        agent,
        f"/api/marketplace-site-agent-identities/{identity}/register_service/",
        {"name": "order_process", "mode": "order_process"},
    )
    assert service.status_code == 200 and service.json()["identity"] == identity
    again = _post(
        api,
        agent,
        f"/api/marketplace-site-agent-identities/{identity}/register_service/",
        {"name": "order_process", "mode": "order_process"},
    )
    assert again.json()["uuid"] == service.json()["uuid"]
    processor = _post(
        api, agent, f"/api/marketplace-site-agent-services/{service.json()['uuid']}/register_processor/",
        {"name": "OfferingOrderProcessor", "backend_type": "slurm", "backend_version": "1.0.7"},
    )  # fmt: skip
    assert processor.status_code == 200 and processor.json()["service"] == service.json()["uuid"]


def test_another_providers_agent_cannot_register_services_on_an_identity(api, site_a, site_b):
    identity = _post(
        api,
        site_a.agent,
        "/api/marketplace-site-agent-identities/",
        {"offering": str(site_a.offering.uuid), "name": "agent-a"},
    ).json()["uuid"]
    answer = _post(
        api, site_b.agent, f"/api/marketplace-site-agent-identities/{identity}/register_service/", {"name": "x"}
    )
    assert answer.status_code == 404
    assert (
        _get(api, site_b.agent, "/api/marketplace-site-agent-identities/", name=f"agent-{site_a.offering.uuid}").json()
        == []
    )


def test_version_is_public(api):
    answer = api.get("/api/version/")
    assert answer.status_code == 200 and isinstance(answer.json()["version"], str)


# -- list endpoints run a fixed number of queries -----------------------------------------------------

PINNED = {
    "/api/marketplace-provider-offerings/": 4,  # token, count, page, components
    "/api/marketplace-provider-resources/": 3,  # token, count, page
    "/api/marketplace-service-providers/": 3,
    "/api/marketplace-offering-users/": 5,  # token, offerings (+ components), resources' projects, grants
}


@pytest.mark.parametrize("endpoint", list(PINNED))
def test_list_query_count_is_pinned(api, django_assert_num_queries, make_site, endpoint):
    sites = [make_site(f"Site{n}") for n in range(4)]
    agent = sites[0].agent
    for site in sites[1:]:
        grant(agent, site.customer, RoleName.CUSTOMER_OWNER)
    client = api.as_user(agent)
    for page_size in (2, 10):
        with django_assert_num_queries(PINNED[endpoint]):
            answer = client.get(endpoint, {"page_size": page_size})
        assert answer.status_code == 200
        assert len(answer.json()) == min(page_size, 4)


@pytest.mark.parametrize(
    ("path", "queries"),
    [
        ("/api/marketplace-provider-offerings/{offering}/", 3),  # token, offering, components
        ("/api/marketplace-provider-resources/{resource}/", 2),  # token, resource (joined)
        ("/api/marketplace-provider-resources/{resource}/team/", 3),  # token, resource, grants
        ("/api/marketplace-service-providers/{customer}/", 2),
    ],
)
def test_detail_query_count_is_pinned(api, site_a, research, django_assert_num_queries, path, queries):
    project = research.project
    for n in range(3):
        grant(UserFactory(username=f"member{n}"), project, RoleName.PROJECT_MEMBER)
    url = path.format(offering=site_a.offering.uuid, resource=site_a.resource.uuid, customer=site_a.customer.uuid)
    client = api.as_user(site_a.agent)
    with django_assert_num_queries(queries):
        assert client.get(url).status_code == 200


def test_a_failure_reported_by_the_agent_errs_the_order_and_its_resource(api, site_a):
    order = f"/api/marketplace-orders/{site_a.order.uuid}"
    assert _post(api, site_a.agent, f"{order}/approve_by_provider/", {}).status_code == 200
    answer = _post(
        api, site_a.agent, f"{order}/set_state_erred/", {"error_message": "sacctmgr failed", "error_traceback": "Tb"}
    )
    assert answer.status_code == 200, answer.content
    site_a.order.refresh_from_db()
    site_a.resource.refresh_from_db()
    assert (site_a.order.state, site_a.order.error_message, site_a.resource.state) == (
        "erred",
        "sacctmgr failed",
        "Erred",
    )
