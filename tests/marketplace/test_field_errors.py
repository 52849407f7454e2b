"""Errors carry the field they are about as a path (`limits.cpu_k_hours`): the API nests the message by
it and the portal forms put the message on that field, whatever the message's wording."""

import pytest
from django.test import Client

from common.api.exceptions import error_body
from common.exceptions import ValidationFailed
from marketplace.models import Offering, Order
from portal.forms import LimitsForm

ORDERS = "/api/marketplace-orders/"
RESOURCES = "/api/marketplace-resources/"


def payload(project, offering, plan, **overrides):
    body = {
        "project": f"http://testserver/api/projects/{project.uuid}/",
        "offering": f"http://testserver/api/marketplace-offerings/{offering.uuid}/",
        "plan": f"http://testserver/api/marketplace-plans/{plan.uuid}/",
        "attributes": {"name": "My allocation"},
        "limits": {"cpu_k_hours": 100, "storage_tb": 2},
    }
    body.update(overrides)
    return body


@pytest.mark.parametrize(
    ("field", "body"),
    [
        ("project", {"project": ["m"]}),
        ("limits.gpus", {"limits": {"gpus": ["m"]}}),
        (("limits", "gpu.hours"), {"limits": {"gpu.hours": ["m"]}}),  # a key holding a dot stays one key
        (None, {"detail": "m"}),
    ],
)
def test_error_body_nests_the_message_by_its_path(field, body):
    assert error_body(ValidationFailed("m", field=field)) == body


def test_a_bad_limit_is_answered_under_its_component(api, manager, project, offering, plan):
    response = api.as_user(manager).post(
        ORDERS, payload(project, offering, plan, limits={"cpu_k_hours": 5000}), format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"limits": {"cpu_k_hours": ["cpu_k_hours: must be at most 1000."]}}
    assert not Order.objects.exists()


def test_a_bad_option_is_answered_under_its_name(api, manager, project, offering, plan):
    Offering.objects.filter(pk=offering.pk).update(options={"options": {"nodes": {"type": "integer", "max": 4}}})
    attributes = {"name": "x", "nodes": 9}
    response = api.as_user(manager).post(ORDERS, payload(project, offering, plan, attributes=attributes), format="json")
    assert response.status_code == 400
    assert response.json() == {"attributes": {"nodes": ["nodes: must be at most 4."]}}


def test_update_limits_answers_under_the_component(api, manager, ok_resource):
    url = f"{RESOURCES}{ok_resource.uuid}/update_limits/"
    response = api.as_user(manager).post(url, {"limits": {"storage_tb": 101}}, format="json")
    assert response.status_code == 400
    assert response.json() == {"limits": {"storage_tb": ["storage_tb: must be at most 100."]}}


def test_the_form_finds_its_field_by_the_path_not_the_wording(ok_resource):
    """A message whose wording has a ':' of its own lands on the field its path names."""
    form = LimitsForm({}, resource=ok_resource, components=list(ok_resource.offering.components.all()))
    form.is_valid()
    form.add_domain_error(ValidationFailed("note: at most 8 this month.", field=("limits", "cpu_k_hours")))
    assert form.errors == {"limit_cpu_k_hours": ["note: at most 8 this month."]}


def test_the_portal_shows_an_error_on_an_option_whose_name_holds_a_colon(manager, project, offering, plan):
    Offering.objects.filter(pk=offering.pk).update(
        options={"options": {"gpu": {"type": "integer", "max": 8}, "gpu:count": {"type": "integer", "max": 2}}}
    )
    client = Client()
    client.force_login(manager)
    data = {
        "project": str(project.uuid),
        "plan": str(plan.uuid),
        "name": "Weather runs",
        "limit_cpu_k_hours": "100",
        "limit_storage_tb": "2",
        "option_gpu": "1",
        "option_gpu:count": "5",
    }
    response = client.post(f"/catalogue/{offering.uuid}/", data)
    errors = response.context["form"].errors
    assert errors.get("option_gpu:count") == ["gpu:count: must be at most 2."]
    assert "option_gpu" not in errors
    assert not Order.objects.exists()
