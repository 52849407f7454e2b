"""Resources: the outcome table, update_limits / terminate, one open order per resource, project expiry."""

import datetime

import pytest
from django.utils import timezone

from marketplace import services
from marketplace.models import Order, OrderState, OrderType, Resource, ResourceState
from marketplace.services.outcomes import OUTCOMES, PREVIOUS

RESOURCES = "/api/marketplace-resources/"
S = OrderState


def finish(order, state):
    """Drive an open order to a final state through the services."""
    if state in (S.REJECTED, S.CANCELED):
        if state == S.REJECTED:
            return services.order_reject_by_provider(order=order, actor=None)
        return services.order_cancel(order=order, actor=None)
    order = services.order_approve_by_provider(order=order, actor=None)
    if state == S.DONE:
        return services.order_set_state_done(order=order, actor=None, backend_id="slurm-acct-7")
    return services.order_set_state_erred(order=order, actor=None, error_message="boom")


@pytest.mark.parametrize(("order_type", "final"), list(OUTCOMES))
def test_outcome_table(manager, place, ok_resource, order_type, final):
    if order_type == OrderType.CREATE:
        order = place(manager)
        before_limits = order.resource.limits
    elif order_type == OrderType.UPDATE:
        before_limits = ok_resource.limits
        order = services.resource_update_limits(resource=ok_resource, actor=manager, limits={"cpu_k_hours": 500})
        assert Resource.objects.get(pk=ok_resource.pk).state == ResourceState.UPDATING
    else:
        before_limits = ok_resource.limits
        order = services.resource_terminate(resource=ok_resource, actor=manager)
        assert Resource.objects.get(pk=ok_resource.pk).state == ResourceState.TERMINATING
    order = finish(order, final)
    resource = Resource.objects.get(pk=order.resource_id)
    outcome = OUTCOMES[(order_type, final)]
    expected = ResourceState.OK if outcome.resource_state == PREVIOUS else outcome.resource_state
    assert resource.state == expected
    if order_type == OrderType.UPDATE and final == S.DONE:
        assert resource.limits == {"cpu_k_hours": 500, "storage_tb": 2}
    else:
        assert resource.limits == before_limits
    if order_type == OrderType.CREATE:
        assert resource.backend_id == ("slurm-acct-7" if final == S.DONE else "")
    assert resource.state_changes.last().message.endswith(f"{order.uuid} {final}.")


def test_terminating_an_erred_resource_that_is_rejected_returns_to_erred(manager, order_in):
    resource = order_in(S.ERRED).resource
    assert resource.state == ResourceState.ERRED
    order = services.resource_terminate(resource=resource, actor=manager)
    services.order_reject_by_provider(order=order, actor=None)
    assert Resource.objects.get(pk=resource.pk).state == ResourceState.ERRED


def test_update_done_takes_the_new_plan(manager, ok_resource, offering):
    from tests.factories import PlanFactory

    gold = PlanFactory(offering=offering, name="Gold")
    order = services.order_place(
        actor=manager,
        project=ok_resource.project,
        offering=offering,
        plan=gold,
        attributes={},
        limits={},
        type=OrderType.UPDATE,
        resource=ok_resource,
    )
    finish(order, S.DONE)
    assert Resource.objects.get(pk=ok_resource.pk).plan == gold


def test_update_limits_api(api, manager, ok_resource):
    response = api.as_user(manager).post(
        f"{RESOURCES}{ok_resource.uuid}/update_limits/", {"limits": {"cpu_k_hours": 200}}, format="json"
    )
    assert response.status_code == 200, response.json()
    order = Order.objects.get(uuid=response.json()["order_uuid"])
    assert (order.type, order.state, order.limits) == (
        "Update",
        S.PENDING_PROVIDER,
        {"cpu_k_hours": 200, "storage_tb": 2},
    )
    assert order.cost == 200 * 2 + 2 * 5


def test_update_limits_rejects_unchanged_and_invalid_limits(api, manager, ok_resource):
    url = f"{RESOURCES}{ok_resource.uuid}/update_limits/"
    same = api.as_user(manager).post(url, {"limits": dict(ok_resource.limits)}, format="json")
    assert same.status_code == 400 and "equal the current ones" in same.json()["limits"][0]
    too_big = api.as_user(manager).post(url, {"limits": {"storage_tb": 101}}, format="json")
    assert too_big.status_code == 400 and "storage_tb" in too_big.json()["limits"]["storage_tb"][0]
    missing = api.as_user(manager).post(url, {}, format="json")
    assert missing.status_code == 400 and "limits" in missing.json()
    assert not Order.objects.filter(type="Update").exists()


def test_terminate_api(api, manager, ok_resource):
    response = api.as_user(manager).post(
        f"{RESOURCES}{ok_resource.uuid}/terminate/", {"attributes": {"reason": "done"}}, format="json"
    )
    assert response.status_code == 200
    order = Order.objects.get(uuid=response.json()["order_uuid"])
    assert (order.type, order.attributes) == ("Terminate", {"reason": "done"})
    assert api.as_user(manager).post(f"{RESOURCES}{ok_resource.uuid}/terminate/").status_code == 409


@pytest.mark.parametrize("state", [ResourceState.CREATING, ResourceState.ERRED, ResourceState.TERMINATED])
def test_update_limits_needs_an_ok_resource(api, manager, order_in, state):
    source = {
        ResourceState.CREATING: S.PENDING_PROVIDER,
        ResourceState.ERRED: S.ERRED,
        ResourceState.TERMINATED: S.REJECTED,
    }
    resource = order_in(source[state]).resource
    assert resource.state == state
    response = api.as_user(manager).post(
        f"{RESOURCES}{resource.uuid}/update_limits/", {"limits": {"cpu_k_hours": 300}}, format="json"
    )
    assert response.status_code == 409
    assert f"resource is {state}" in response.json()["detail"]


def test_terminate_from_erred_but_not_from_terminated(api, manager, order_in):
    erred = order_in(S.ERRED).resource
    assert api.as_user(manager).post(f"{RESOURCES}{erred.uuid}/terminate/").status_code == 200
    gone = order_in(S.CANCELED).resource
    assert api.as_user(manager).post(f"{RESOURCES}{gone.uuid}/terminate/").status_code == 409


def test_one_open_order_per_resource(api, manager, ok_resource):
    first = services.resource_update_limits(resource=ok_resource, actor=manager, limits={"cpu_k_hours": 300})
    # The resource is now `updating`; even a forced second order is refused by the database constraint.
    Resource.objects.filter(pk=ok_resource.pk).update(state=ResourceState.OK)
    response = api.as_user(manager).post(
        f"{RESOURCES}{ok_resource.uuid}/update_limits/", {"limits": {"cpu_k_hours": 400}}, format="json"
    )
    assert response.status_code == 409
    assert "already has an order" in response.json()["detail"]
    assert list(Order.objects.filter(resource=ok_resource).open()) == [first]


def test_resource_visibility(api, manager, member, outsider, provider_owner, ok_resource):
    for user in (manager, member, provider_owner):
        assert api.as_user(user).get(f"{RESOURCES}{ok_resource.uuid}/").status_code == 200
    assert api.as_user(outsider).get(f"{RESOURCES}{ok_resource.uuid}/").status_code == 404
    response = api.as_user(member).post(
        f"{RESOURCES}{ok_resource.uuid}/update_limits/", {"limits": {"cpu_k_hours": 300}}, format="json"
    )
    assert response.status_code == 403


def test_resource_filters(api, manager, ok_resource, project):
    def names(query):
        response = api.as_user(manager).get(f"{RESOURCES}?{query}")
        assert response.status_code == 200, response.json()
        return [r["uuid"] for r in response.json()]

    mine = [str(ok_resource.uuid)]
    assert names(f"project_uuid={project.uuid}") == mine
    assert names(f"customer_uuid={project.customer.uuid}") == mine
    assert names(f"offering_uuid={ok_resource.offering.uuid}") == mine
    assert names("state=OK") == mine and names("state=ok") == mine and names("state=Erred") == []
    assert names("backend_id=backend-1") == mine and names("backend_id=other") == []
    assert names("name=alloc") == mine
    for bad in ("state=broken", "project_uuid=nope", "offering_uuid=1"):
        assert api.as_user(manager).get(f"{RESOURCES}?{bad}").status_code == 400


# --- project end dates ---------------------------------------------------------------------------


def test_orders_for_expired_projects_are_refused(api, manager, project, offering, plan):
    project.end_date = timezone.localdate() - datetime.timedelta(days=1)
    project.save()
    body = {
        "project": str(project.uuid),
        "offering": str(offering.uuid),
        "plan": str(plan.uuid),
        "attributes": {"name": "Late"},
    }
    response = api.as_user(manager).post("/api/marketplace-orders/", body, format="json")
    assert response.status_code == 400
    assert f"ended on {project.end_date.isoformat()}" in response.json()["project"][0]


def test_daily_task_terminates_resources_of_expired_projects(monkeypatch, manager, ok_resource, project):
    from marketplace.tasks import terminate_expired_resources

    today = timezone.localdate()
    project.end_date = today + datetime.timedelta(days=30)
    project.save()
    assert terminate_expired_resources() == 0

    # Travel 31 days ahead: the project has ended.
    later = timezone.now() + datetime.timedelta(days=31)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert terminate_expired_resources() == 1
    order = Order.objects.get(resource=ok_resource, type="Terminate")
    assert (order.state, order.created_by) == (S.PENDING_PROVIDER, None)
    assert Resource.objects.get(pk=ok_resource.pk).state == ResourceState.TERMINATING
    assert terminate_expired_resources() == 0  # the open order is not duplicated
    with pytest.raises(Exception, match="ended on"):
        services.resource_update_limits(resource=ok_resource, actor=manager, limits={"cpu_k_hours": 2})
