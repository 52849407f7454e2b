"""Pausing and resuming a resource: the state rules as a table, who may, the events, the API."""

import pytest

from common.exceptions import Conflict, PermissionDenied
from events.models import Event
from marketplace import services
from marketplace.models import Resource, ResourceState

R = ResourceState
PAUSE, RESUME = "pause", "resume"
SERVICES = {PAUSE: services.resource_pause, RESUME: services.resource_resume}
EVENTS = {PAUSE: "marketplace_resource_pause_succeeded", RESUME: "marketplace_resource_resume_succeeded"}

# (resource state, paused before, action) → paused after, for a person; every other row is a 409.
ALLOWED = {
    (R.OK, False, PAUSE): True,
    (R.OK, True, RESUME): False,
}
# The system (a policy) may repeat itself: asking for what already holds is a no-op, in any state.
SYSTEM_NO_OPS = {(state, paused, action) for state in R.values for paused, action in ((True, PAUSE), (False, RESUME))}
ROWS = [(state, paused, action) for state in R.values for paused in (False, True) for action in (PAUSE, RESUME)]


def _resource_in(resource, state, paused):
    Resource.objects.filter(pk=resource.pk).update(state=state, paused=paused)
    return Resource.objects.get(pk=resource.pk)


def _events(resource):
    return list(Event.objects.filter(resource_uuid=resource.uuid, event_type__in=EVENTS.values()))


@pytest.mark.parametrize("as_system", [False, True], ids=["staff", "system"])
@pytest.mark.parametrize(("state", "paused", "action"), ROWS)
def test_state_rules(ok_resource, staff, as_system, state, paused, action):
    resource = _resource_in(ok_resource, state, paused)
    before = Resource.objects.values().get(pk=resource.pk)
    actor = None if as_system else staff
    key = (state, paused, action)
    if key in ALLOWED:
        result = SERVICES[action](resource=resource.uuid, actor=actor, reason="over budget")
        assert result.paused is ALLOWED[key]
        assert Resource.objects.get(pk=resource.pk).paused is ALLOWED[key]
        [event] = _events(resource)
        assert event.event_type == EVENTS[action]
        assert (event.actor_uuid, event.context["reason"]) == (None if as_system else staff.uuid, "over budget")
        return
    if as_system and key in SYSTEM_NO_OPS:
        assert SERVICES[action](resource=resource, actor=None).paused is paused
    else:
        with pytest.raises(Conflict) as refused:
            SERVICES[action](resource=resource, actor=actor)
        expected = ("already paused" if paused else "not paused") if paused == (action == PAUSE) else f"it is {state}"
        assert expected in refused.value.message
    assert Resource.objects.values().get(pk=resource.pk) == before, "a refused or repeated request changes nothing"
    assert _events(resource) == []


@pytest.mark.parametrize("role", ["owner", "manager", "member", "project_admin", "support"])
def test_only_staff_and_the_provider_side_may_pause(request, ok_resource, role):
    with pytest.raises(PermissionDenied, match="the owners of the provider organisation"):
        services.resource_pause(resource=ok_resource, actor=request.getfixturevalue(role))
    assert Resource.objects.get(pk=ok_resource.pk).paused is False
    assert _events(ok_resource) == []


def test_pause_then_resume_records_two_events_in_order(ok_resource, provider_owner):
    services.resource_pause(resource=ok_resource, actor=provider_owner, reason="maintenance")
    services.resource_resume(resource=ok_resource, actor=provider_owner)
    events = Event.objects.filter(resource_uuid=ok_resource.uuid, event_type__in=EVENTS.values()).order_by("id")
    assert [(e.event_type, e.actor_username) for e in events] == [
        (EVENTS[PAUSE], provider_owner.username),
        (EVENTS[RESUME], provider_owner.username),
    ]
    assert events[0].message.endswith(": maintenance")
    assert events[0].project_uuid == ok_resource.project.uuid and events[0].scope_type == "resource"


def url(resource, action):
    return f"/api/marketplace-resources/{resource.uuid}/{action}/"


@pytest.mark.parametrize("role", ["staff", "provider_owner"])
def test_api_pause_and_resume(api, request, ok_resource, role):
    client = api.as_user(request.getfixturevalue(role))
    paused = client.post(url(ok_resource, PAUSE), {"reason": "quota"}, format="json")
    assert paused.status_code == 200, paused.json()
    assert (paused.json()["uuid"], paused.json()["paused"]) == (str(ok_resource.uuid), True)
    assert client.get(f"/api/marketplace-resources/{ok_resource.uuid}/").json()["paused"] is True

    again = client.post(url(ok_resource, PAUSE), {}, format="json")
    assert again.status_code == 409
    assert "already paused" in again.json()["detail"]

    resumed = client.post(url(ok_resource, RESUME), {}, format="json")
    assert resumed.status_code == 200 and resumed.json()["paused"] is False
    assert client.post(url(ok_resource, RESUME), {}, format="json").status_code == 409


@pytest.mark.parametrize("role", ["owner", "manager", "member", "project_admin", "support"])
@pytest.mark.parametrize("action", [PAUSE, RESUME])
def test_api_refuses_the_consumer_side(api, request, ok_resource, role, action):
    _resource_in(ok_resource, R.OK, action == RESUME)
    response = api.as_user(request.getfixturevalue(role)).post(url(ok_resource, action), {}, format="json")
    assert response.status_code == 403
    assert Resource.objects.get(pk=ok_resource.pk).paused is (action == RESUME)


def test_api_invisible_resource_is_404(api, outsider, ok_resource):
    assert api.as_user(outsider).post(url(ok_resource, PAUSE), {}, format="json").status_code == 404


def test_api_reason_is_bounded(api, staff, ok_resource):
    response = api.as_user(staff).post(url(ok_resource, PAUSE), {"reason": "x" * 501}, format="json")
    assert response.status_code == 400 and "reason" in response.json()
    assert Resource.objects.get(pk=ok_resource.pk).paused is False


def test_a_new_resource_is_not_paused(api, manager, ok_resource):
    assert api.as_user(manager).get(f"/api/marketplace-resources/{ok_resource.uuid}/").json()["paused"] is False


def test_paused_resources_can_be_listed(api, staff, ok_resource):
    services.resource_pause(resource=ok_resource, actor=staff)
    client = api.as_user(staff)
    assert [r["uuid"] for r in client.get("/api/marketplace-resources/?paused=true").json()] == [str(ok_resource.uuid)]
    assert client.get("/api/marketplace-resources/?paused=false").json() == []


def test_a_pause_costs_a_fixed_number_of_queries(ok_resource, provider_owner, django_assert_num_queries):
    # savepoint, the locked resource (with offering, project, customer), the provider owner's roles,
    # the update, the event, release; a manual offering's processor writes nothing.
    with django_assert_num_queries(6):
        services.resource_pause(resource=ok_resource.uuid, actor=provider_owner)
