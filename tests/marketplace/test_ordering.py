"""Placing orders: auto-approval paths, validation (400 naming the field), terms, processors.

Who is mailed about a waiting order is tested with the notifications (tests/notifications/).
"""

from decimal import Decimal

import pytest

from common.exceptions import PermissionDenied
from marketplace import processors, services
from marketplace.models import OfferingState, Order, OrderState, Resource, StateChange

ORDERS = "/api/marketplace-orders/"


def payload(project, offering, plan, /, **overrides):
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
    ("role", "auto_approve", "expected"),
    [
        ("project_admin", False, OrderState.PENDING_CONSUMER),
        ("project_admin", True, OrderState.PENDING_CONSUMER),
        ("manager", False, OrderState.PENDING_PROVIDER),
        ("owner", False, OrderState.PENDING_PROVIDER),
        ("staff", False, OrderState.PENDING_PROVIDER),
        ("manager", True, OrderState.EXECUTING),
    ],
)
def test_auto_approval_paths(api, request, project, offering, plan, role, auto_approve, expected):
    offering.auto_approve = auto_approve
    offering.save()
    response = api.as_user(request.getfixturevalue(role)).post(ORDERS, payload(project, offering, plan), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["state"] == expected
    assert body["type"] == "Create"
    assert body["cost"] == "210.000000"  # 100 × 2 + 2 × 5; the usage component is not estimated
    resource = Resource.objects.get(uuid=body["marketplace_resource_uuid"])
    assert (resource.state, resource.name, resource.slug) == ("Creating", "My allocation", "my-allocation")
    assert (body["project_name"], body["customer_name"], body["offering_name"]) == (
        project.name,
        project.customer.name,
        offering.name,
    )
    if auto_approve and expected == OrderState.EXECUTING:
        assert body["provider_reviewed_at"] and body["provider_reviewed_by"] is None


def test_auto_approved_provider_review_after_consumer_approval(api, manager, order_in, offering):
    offering.auto_approve = True
    offering.save()
    order = order_in(OrderState.PENDING_CONSUMER)
    response = api.as_user(manager).post(f"{ORDERS}{order.uuid}/approve_by_consumer/")
    assert response.json()["state"] == OrderState.EXECUTING


def test_public_offering_and_plan_urls_are_accepted(api, manager, project, offering, plan):
    public = f"http://testserver/api/marketplace-public-offerings/{offering.uuid}/"
    body = payload(project, offering, plan, offering=public, plan=f"{public}plans/{plan.uuid}/")
    response = api.as_user(manager).post(ORDERS, body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["plan_uuid"] == str(plan.uuid)


def test_members_may_not_order(api, member, project, offering, plan):
    response = api.as_user(member).post(ORDERS, payload(project, offering, plan), format="json")
    assert response.status_code == 403
    assert not Order.objects.exists() and not Resource.objects.exists()


def test_invisible_project_is_a_400_naming_it(api, outsider, project, offering, plan):
    response = api.as_user(outsider).post(ORDERS, payload(project, offering, plan), format="json")
    assert response.status_code == 400
    assert "project" in response.json()


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"limits": {"cpu_k_hours": 5000}}, "limits", "cpu_k_hours: must be at most 1000"),
        ({"limits": {"cpu_k_hours": 0}}, "limits", "cpu_k_hours: must be at least 1"),
        ({"limits": {"gpu_hours": 5}}, "limits", "gpu_hours: billed by usage"),
        ({"limits": {"ram": 5}}, "limits", "ram: not a component"),
        ({"limits": {"cpu_k_hours": "many"}}, "limits", "cpu_k_hours: expected a non-negative integer"),
        ({"limits": {"cpu_k_hours": True}}, "limits", "cpu_k_hours: expected a non-negative integer"),
        ({"attributes": {}}, "attributes", "name: required"),
        ({"attributes": {"name": "x", "partition": "gpu", "qos": 1}}, "attributes", "qos: not an option"),
        ({"attributes": {"name": "x", "partition": "fpga"}}, "attributes", "partition: 'fpga' is not one of"),
        ({"attributes": {"name": "x", "nodes": 0}}, "attributes", "nodes: must be at least 1"),
        ({"attributes": {"name": "x", "nodes": "2"}}, "attributes", "nodes: expected an integer"),
        ({"attributes": {"name": "x", "exclusive": "yes"}}, "attributes", "exclusive: expected true or false"),
        ({"attributes": {"name": "x", "account": "y" * 20}}, "attributes", "account: at most 10 characters"),
        ({"type": "Resize"}, "type", "not a valid choice"),
        ({"plan": None}, "plan", "Choose one of the offering's plans"),
    ],
)
def test_validation_names_the_field(api, manager, project, offering, plan, overrides, field, fragment):
    offering.options = {
        "order": ["partition", "nodes", "exclusive", "account"],
        "options": {
            "partition": {"type": "enum", "choices": ["cpu", "gpu"], "default": "cpu"},
            "nodes": {"type": "integer", "min": 1, "max": 64},
            "exclusive": {"type": "boolean", "default": False},
            "account": {"type": "string", "max_length": 10},
        },
    }
    offering.save()
    response = api.as_user(manager).post(ORDERS, payload(project, offering, plan, **overrides), format="json")
    assert response.status_code == 400
    assert fragment in str(response.json()[field]), response.json()
    assert not Order.objects.exists() and not Resource.objects.exists()


def test_defaults_fill_options_and_limits(manager, place, offering):
    offering.options = {"options": {"partition": {"type": "enum", "choices": ["cpu", "gpu"], "default": "cpu"}}}
    offering.save()
    order = place(manager, limits={})
    assert order.attributes == {"name": "Allocation", "partition": "cpu"}
    assert order.limits == {"cpu_k_hours": 10, "storage_tb": 1}


def test_required_option_without_value(manager, place, offering):
    offering.options = {"options": {"project_code": {"type": "string", "required": True}}}
    offering.save()
    with pytest.raises(Exception, match="project_code: required"):
        place(manager)


@pytest.mark.parametrize("state", [OfferingState.DRAFT, OfferingState.PAUSED, OfferingState.ARCHIVED])
def test_only_active_offerings_can_be_ordered(api, staff, project, offering, plan, state):
    offering.state = state
    offering.save()
    response = api.as_user(staff).post(ORDERS, payload(project, offering, plan), format="json")
    assert response.status_code == 400
    assert f"is {state}" in response.json()["offering"][0]


def test_archived_plan_and_foreign_plan(api, manager, project, offering, plan):
    plan.archived = True
    plan.save()
    response = api.as_user(manager).post(ORDERS, payload(project, offering, plan), format="json")
    assert response.status_code == 400 and "archived" in response.json()["plan"][0]
    from tests.factories import catalogue_offering

    other_plan = catalogue_offering(customer=offering.customer).plans.get()
    response = api.as_user(manager).post(ORDERS, payload(project, offering, other_plan), format="json")
    assert response.status_code == 400 and "another offering" in response.json()["plan"][0]


def test_terms_of_service_must_be_accepted(api, manager, project, offering, plan):
    offering.terms_of_service = "Acknowledge us in your papers."
    offering.save()
    response = api.as_user(manager).post(ORDERS, payload(project, offering, plan), format="json")
    assert response.status_code == 400
    assert "accepting_terms_of_service" in response.json()
    body = payload(project, offering, plan, accepting_terms_of_service=True)
    assert api.as_user(manager).post(ORDERS, body, format="json").status_code == 201


def test_processor_runs_inside_the_transition(monkeypatch, manager, provider_owner, place, offering):
    seen = []

    class Recorder:
        def submit(self, order):
            seen.append((order.uuid, order.state, Order.objects.get(pk=order.pk).state))

    offering.type = "Test.Recorder"
    offering.save()
    monkeypatch.setattr(processors, "_processors", {**processors._processors, "Test.Recorder": Recorder()})
    order = place(manager)
    assert seen == []
    services.order_approve_by_provider(order=order, actor=provider_owner)
    assert seen == [(order.uuid, OrderState.EXECUTING, OrderState.EXECUTING)]


def test_failing_processor_rolls_back_the_state_change(monkeypatch, manager, provider_owner, place, offering):
    class Broken:
        def submit(self, order):
            raise RuntimeError("outbox unavailable")

    monkeypatch.setattr(processors, "_default", [Broken()])
    offering.type = "Unclaimed.Type"
    offering.save()
    order = place(manager)
    history = StateChange.objects.count()
    with pytest.raises(RuntimeError):
        services.order_approve_by_provider(order=order.uuid, actor=provider_owner)
    assert Order.objects.get(pk=order.pk).state == OrderState.PENDING_PROVIDER
    assert StateChange.objects.count() == history


def test_registry_lookup_order(monkeypatch):
    explicit, default = object(), object()
    monkeypatch.setattr(processors, "_processors", {"manual": processors.MANUAL})
    monkeypatch.setattr(processors, "_default", [])
    assert processors.get_processor("Anything") is processors.MANUAL
    processors.register_default_processor(default)
    processors.register_processor("Marketplace.Slurm", explicit)
    assert processors.get_processor("Marketplace.Slurm") is explicit
    assert processors.get_processor("Anything") is default
    assert processors.get_processor("manual") is processors.MANUAL


def test_service_checks_permission_but_not_for_the_system(member, place):
    with pytest.raises(PermissionDenied):
        place(member)
    order = place(None)
    assert order.state == OrderState.PENDING_PROVIDER and order.consumer_reviewed_by is None
    assert order.cost == Decimal("210")
