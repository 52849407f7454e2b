"""Resource and offering states are served with Waldur's names, which Waldur clients compare exactly.

Resources: Creating, OK, Erred, Updating, Terminating, Terminated; offerings: Draft, Active, Paused, Archived;
orders stay lower-case. The `state` filters take both casings, repeated or comma-separated; the portal shows
labels. The real python-waldur-client is run against a live server.
"""

import re

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from waldur_client import InvalidStateError, WaldurClient

from federation import services as federation_services
from federation.models import RoleName
from marketplace.models import Offering, OfferingState, OrderState, Resource, ResourceState, StateChange
from tests.factories import OfferingFactory, UserFactory, grant

RESOURCE_STATES = ["Creating", "OK", "Erred", "Updating", "Terminating", "Terminated"]
OFFERING_STATES = ["Draft", "Active", "Paused", "Archived"]
ORDER_STATES = ["pending-consumer", "pending-provider", "executing", "done", "erred", "canceled", "rejected"]
RESOURCES = "/api/marketplace-resources/"
OFFERINGS = "/api/marketplace-offerings/"


@pytest.fixture
def resources(project, offering):
    """One resource of the project in each state, named after it."""
    return {
        state: Resource.objects.create(
            name=state, slug=state.lower(), offering=offering, project=project, state=state, backend_id=f"b-{state}"
        )
        for state in ResourceState.values
    }


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return sorted(row["name"] for row in response.json())


def test_the_stored_values_are_waldurs_names():
    assert ResourceState.values == RESOURCE_STATES
    assert OfferingState.values == OFFERING_STATES
    assert OrderState.values == ORDER_STATES


def test_resources_are_served_with_waldur_state_names(api, member, resources):
    body = api.as_user(member).get(RESOURCES, {"page_size": 50}).json()
    assert {row["name"]: row["state"] for row in body} == {state: state for state in RESOURCE_STATES}
    detail = api.as_user(member).get(f"{RESOURCES}{resources['Erred'].uuid}/").json()
    assert detail["state"] == "Erred"


def test_offerings_are_served_with_waldur_state_names(api, staff, provider):
    for state in OFFERING_STATES:
        OfferingFactory(customer=provider, name=f"Offering {state}", state=state)
    body = api.as_user(staff).get(OFFERINGS, {"customer_uuid": str(provider.uuid), "page_size": 50}).json()
    assert {row["name"]: row["state"] for row in body} == {f"Offering {s}": s for s in OFFERING_STATES}


LIVE = ["Creating", "Erred", "OK", "Terminating", "Updating"]  # what Waldur clients look resources up among


@pytest.mark.parametrize(
    "query",
    [
        "state=Creating,OK,Erred,Updating,Terminating",  # comma-separated, as sent by generated clients
        "state=Creating&state=OK&state=Erred&state=Updating&state=Terminating",  # repeated, as requests sends a list
        "state=creating,ok,erred,updating,terminating",  # the old lower-case names
        "state=creating&state=OK&state=ERRED&state=updating,Terminating",  # mixed
    ],
)
def test_resource_state_filter_takes_both_casings_and_lists(api, member, resources, query):
    assert names(api.as_user(member).get(f"{RESOURCES}?{query}")) == LIVE


def test_resource_state_filter_single_values(api, member, resources):
    for value in ("Erred", "erred", "ERRED"):
        assert names(api.as_user(member).get(f"{RESOURCES}?state={value}")) == ["Erred"]
    assert names(api.as_user(member).get(f"{RESOURCES}?state=")) == sorted(RESOURCE_STATES)


@pytest.mark.parametrize("query", ["state=Gone", "state=OK,Gone", "state=Erred&state=nope"])
def test_unknown_resource_state_is_a_400_naming_the_field(api, member, resources, query):
    response = api.as_user(member).get(f"{RESOURCES}?{query}")
    assert response.status_code == 400 and "state" in response.json()


@pytest.mark.parametrize(
    "query", ["state=Active,Paused", "state=Active&state=Paused", "state=active,paused", "state=active&state=PAUSED"]
)
def test_offering_state_filter_takes_both_casings_and_lists(api, staff, provider, query):
    for state in OFFERING_STATES:
        OfferingFactory(customer=provider, name=state, state=state)
    assert names(api.as_user(staff).get(f"{OFFERINGS}?{query}")) == ["Active", "Paused"]


def test_order_state_filter_keeps_lower_case_and_takes_lists(api, member, order_in):
    pending, done = order_in(OrderState.PENDING_CONSUMER), order_in(OrderState.DONE)
    for query in ("state=done", "state=Done", "state=done,canceled", "state=DONE&state=rejected"):
        response = api.as_user(member).get(f"/api/marketplace-orders/?{query}")
        assert [row["uuid"] for row in response.json()] == [str(done.uuid)], query
        assert response.json()[0]["state"] == "done"
    both = api.as_user(member).get("/api/marketplace-orders/?state=pending-consumer,done").json()
    assert {row["uuid"] for row in both} == {str(pending.uuid), str(done.uuid)}


def _enum(schema: dict, name: str) -> list[str]:
    return schema["components"]["schemas"][name]["enum"]


def _state_parameter_enum(schema: dict, path: str) -> list[str]:
    (parameter,) = [p for p in schema["paths"][path]["get"]["parameters"] if p["name"] == "state"]
    return parameter["schema"]["items"]["enum"]


def test_schema_enums_are_waldurs(api, staff):
    schema = api.as_user(staff).get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert sorted(_enum(schema, "ResourceStateEnum")) == sorted(RESOURCE_STATES)
    assert sorted(_enum(schema, "OfferingStateEnum")) == sorted(OFFERING_STATES)
    assert sorted(_enum(schema, "OrderStateEnum")) == sorted(ORDER_STATES)
    assert sorted(_state_parameter_enum(schema, RESOURCES)) == sorted(RESOURCE_STATES)
    assert sorted(_state_parameter_enum(schema, OFFERINGS)) == sorted(OFFERING_STATES)


def _state_label(label: str, page: str) -> bool:
    """Whether the page shows `label` as a state (a state pill, whatever its colour class)."""
    return re.search(rf'<span class="state( state-[a-z]+)?">{re.escape(label)}</span>', page) is not None


def test_portal_shows_labels(member, resources, order_in):
    browser = Client()
    browser.force_login(member)
    page = browser.get("/resources/", {"page_size": 50}).content.decode()
    for state in RESOURCE_STATES:
        assert _state_label(state, page), state
    order = order_in(OrderState.PENDING_CONSUMER)
    page = browser.get(f"/orders/{order.uuid}/").content.decode()
    assert _state_label("Pending consumer", page) and ">pending-consumer<" not in page
    page = browser.get(f"/resources/{order.resource.uuid}/").content.decode()
    assert _state_label("Creating", page)  # its state and its history, by label
    page = browser.get(f"/catalogue/{order.offering.uuid}/").content.decode()
    assert _state_label("Active", page)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_python_waldur_client_reads_the_states(live_server, customer, project, offering):
    """The real python-waldur-client: its readiness check and its state look-ups."""
    user = UserFactory(username="integration")
    grant(user, customer, RoleName.CUSTOMER_OWNER)
    states = {
        state: Resource.objects.create(name=state, slug=state.lower(), offering=offering, project=project, state=state)
        for state in ResourceState.values
    }
    client = WaldurClient(f"{live_server.url}/api/", federation_services.token_issue(user=user))

    assert client._is_resource_ready("marketplace-resources", str(states["OK"].uuid)) is True
    assert client._is_resource_ready("marketplace-resources", str(states["Creating"].uuid)) is False
    with pytest.raises(InvalidStateError):
        client._is_resource_ready("marketplace-resources", str(states["Erred"].uuid))

    live = client.filter_marketplace_resources({"state": ["Creating", "OK", "Erred", "Updating", "Terminating"]})
    assert sorted(r["name"] for r in live) == LIVE
    assert [r["name"] for r in client.list_marketplace_resources(state="Erred")] == ["Erred"]
    OfferingFactory(customer=offering.customer, name="Paused one", state=OfferingState.PAUSED)
    OfferingFactory(customer=offering.customer, name="Draft one", state=OfferingState.DRAFT)
    listed = client._query_resource_list("marketplace-offerings", {"state": ["Active", "Paused"]})
    assert sorted(o["name"] for o in listed) == ["HPC allocation", "Paused one"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_migration_renames_stored_states(customer, project):
    """Rows written with the old names read as Waldur's after the migration, history included."""
    executor = MigrationExecutor(connection)
    before = [("marketplace", "0001_initial")]
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    offering = old.get_model("marketplace", "Offering").objects.create(
        name="Old", customer_id=customer.id, type="manual", state="paused"
    )
    resource = old.get_model("marketplace", "Resource").objects.create(
        name="Old", slug="old", offering_id=offering.id, project_id=project.id, state="terminated"
    )
    old.get_model("marketplace", "StateChange").objects.create(
        resource_id=resource.id, from_state="terminating", to_state="terminated"
    )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert Offering.objects.get(id=offering.id).state == OfferingState.PAUSED
    assert Resource.objects.get(id=resource.id).state == ResourceState.TERMINATED
    change = StateChange.objects.get(resource_id=resource.id)
    assert (change.from_state, change.to_state) == ("Terminating", "Terminated")
