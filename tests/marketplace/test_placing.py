"""Placing orders of each type: one service per type, `order_place` handing the API's orders to them,
and the one "object or uuid → row" loader they use."""

import uuid

import pytest

from common.exceptions import NotFound
from common.loading import load_row
from federation.models import RoleName
from marketplace import services
from marketplace.models import Order, OrderState, Resource, ResourceState
from tests.factories import ProjectFactory, grant

ORDERS = "/api/marketplace-orders/"


def payload(resource, /, **overrides):
    body = {
        "project": f"http://testserver/api/projects/{resource.project.uuid}/",
        "offering": f"http://testserver/api/marketplace-offerings/{resource.offering.uuid}/",
        "resource": f"http://testserver/api/marketplace-resources/{resource.uuid}/",
        "attributes": {},
        "limits": {},
    }
    body.update(overrides)
    return body


def test_an_update_order_through_the_orders_endpoint(api, manager, ok_resource):
    body = payload(ok_resource, type="Update", limits={"cpu_k_hours": 300})
    response = api.as_user(manager).post(ORDERS, body, format="json")
    assert response.status_code == 201, response.json()
    order = Order.objects.get(uuid=response.json()["uuid"])
    assert (order.type, order.state, order.limits) == (
        "Update",
        OrderState.PENDING_PROVIDER,
        {"cpu_k_hours": 300, "storage_tb": 2},
    )
    assert Resource.objects.get(pk=ok_resource.pk).state == ResourceState.UPDATING


def test_a_terminate_order_through_the_orders_endpoint(api, manager, ok_resource):
    response = api.as_user(manager).post(ORDERS, payload(ok_resource, type="Terminate"), format="json")
    assert response.status_code == 201, response.json()
    assert Order.objects.get(uuid=response.json()["uuid"]).type == "Terminate"
    assert Resource.objects.get(pk=ok_resource.pk).state == ResourceState.TERMINATING


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"type": "Update", "resource": None}, "needs the resource it changes"),
        ({"type": "Create"}, "leave this out"),
    ],
)
def test_the_resource_is_named_exactly_when_the_type_needs_it(api, manager, ok_resource, overrides, fragment):
    before = Order.objects.count()
    response = api.as_user(manager).post(ORDERS, payload(ok_resource, **overrides), format="json")
    assert response.status_code == 400 and fragment in response.json()["resource"][0]
    assert Order.objects.count() == before


def test_a_resource_of_another_project_is_refused(api, manager, ok_resource, customer):
    other = ProjectFactory(customer=customer)
    body = payload(ok_resource, type="Terminate", project=f"http://testserver/api/projects/{other.uuid}/")
    grant(manager, other, RoleName.PROJECT_MANAGER)
    response = api.as_user(manager).post(ORDERS, body, format="json")
    assert response.status_code == 400 and "another project" in response.json()["resource"][0]
    assert Resource.objects.get(pk=ok_resource.pk).state == ResourceState.OK


def test_the_resource_services_take_a_uuid(manager, ok_resource):
    order = services.resource_update_limits(resource=str(ok_resource.uuid), actor=manager, limits={"storage_tb": 3})
    assert (order.type, order.resource_id, order.limits["storage_tb"]) == ("Update", ok_resource.pk, 3)
    services.order_cancel(order=order, actor=None)
    order = services.resource_terminate(resource=ok_resource.uuid, actor=manager)
    assert (order.type, order.resource_id) == ("Terminate", ok_resource.pk)


@pytest.mark.parametrize("ref", ["not-a-uuid", uuid.UUID(int=7), "", 12])
def test_an_unknown_or_malformed_uuid_is_not_found(manager, ok_resource, ref):
    with pytest.raises(NotFound, match="Resource not found"):
        services.resource_terminate(resource=ref, actor=manager)
    assert not ok_resource.orders.filter(type="Terminate").exists()


def test_load_row_takes_an_instance_or_its_uuid(ok_resource):
    rows = Resource.objects.all()
    assert load_row(rows, ok_resource) == ok_resource
    assert load_row(rows, ok_resource.uuid) == ok_resource
    assert load_row(rows, str(ok_resource.uuid)) == ok_resource
    with pytest.raises(NotFound, match="^Resource not found.$"):
        load_row(rows.exclude(pk=ok_resource.pk), ok_resource)
