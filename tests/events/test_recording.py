"""Every event type: the action writes its event in its own transaction, and exactly the right people see it.

One case per event type (two for role grants: on a project and on a customer). Each case sets up
what the action needs, then runs the action inside a transaction that is rolled back (no event may
remain), then runs it for real: one new event, with its catalogue scope and exactly its catalogue
context fields, found through GET /api/events/ by exactly the viewers who may see its scope object.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounting.policies import services as policies
from accounting.services import UsageReport, usage_report
from accounting.shares import services as shares
from events.models import Event
from events.types import EVENT_TYPES
from federation import ending
from federation import services as federation
from federation.models import Project, Role, RoleName
from marketplace import services as marketplace
from marketplace.models import Order, OrderState, Resource
from providers import services as providers
from providers.models import Provider
from tests.factories import UserFactory, grant

from .viewers import VIEWERS, World, seen_by

ORDER_SEEN = frozenset({"staff", "support", "owner", "manager", "member", "provider_owner"})
PROJECT_SEEN = frozenset({"staff", "support", "owner", "manager", "member"})
CUSTOMER_SEEN = PROJECT_SEEN  # a customer is seen by whoever holds a role on it or on one of its projects
NEW_PROJECT_SEEN = frozenset({"staff", "support", "owner"})
PROVIDER_SEEN = frozenset({"staff", "support", "provider_owner"})


class RolledBack(Exception):
    pass


# -- getting orders and resources into the state an action needs ------------------------------------

TO_STATE = {
    OrderState.PENDING_CONSUMER: [],
    OrderState.PENDING_PROVIDER: [marketplace.order_approve_by_consumer],
    OrderState.EXECUTING: [marketplace.order_approve_by_consumer, marketplace.order_approve_by_provider],
}


def _drive(order: Order, state: str) -> Order:
    for step in TO_STATE[state]:
        order = step(order=order.uuid, actor=None)
    assert order.state == state
    return order


def _place(w: World) -> Order:
    """A create order placed by the project admin: it waits for the consumer's review."""
    return marketplace.order_create(
        actor=w.project_admin,
        project=w.project,
        offering=w.offering,
        plan=w.plan,
        attributes={"name": "Allocation"},
        limits={"cpu_k_hours": 100, "storage_tb": 2},
    )


def _create_order(w: World, state: str) -> Order:
    return _drive(_place(w), state)


def _ok_resource(w: World) -> Resource:
    order = _create_order(w, OrderState.EXECUTING)
    return marketplace.order_set_state_done(order=order.uuid, actor=None, backend_id="acct-1").resource


def _update_order(w: World, state: str) -> Order:
    resource = _ok_resource(w)
    order = marketplace.resource_update_limits(
        resource=resource.uuid, actor=w.project_admin, limits={"cpu_k_hours": 200}
    )
    return _drive(order, state)


def _terminate_order(w: World, state: str) -> Order:
    order = marketplace.resource_terminate(resource=_ok_resource(w).uuid, actor=w.project_admin)
    return _drive(order, state)


def _pause(w: World, *, paused_before: bool):
    resource = _ok_resource(w)
    if paused_before:
        marketplace.resource_pause(resource=resource.uuid, actor=None)
        return lambda: marketplace.resource_resume(resource=resource.uuid, actor=w.provider_owner)
    return lambda: marketplace.resource_pause(resource=resource.uuid, actor=w.provider_owner, reason="budget")


def _done(order: Order):
    return lambda: marketplace.order_set_state_done(order=order.uuid, actor=None, backend_id="acct-1")


def _erred(order: Order):
    return lambda: marketplace.order_set_state_erred(order=order.uuid, actor=None, error_message="quota exceeded")


def _reject_by_provider(w: World, order: Order):
    return lambda: marketplace.order_reject_by_provider(order=order.uuid, actor=w.provider_owner)


def _cancel(w: World, order: Order):
    return lambda: marketplace.order_cancel(order=order.uuid, actor=w.project_admin)


def _report(resource: Resource, amount: str):
    today = timezone.localdate()
    return lambda: usage_report(reports=[UsageReport(resource.id, "gpu_hours", today, Decimal(amount))])


def _role(name: str) -> Role:
    return Role.objects.get(name=name)


def _set_end_date(model, obj, days: int) -> None:
    model.objects.filter(id=obj.id).update(end_date=timezone.localdate() + timedelta(days=days))


# -- the cases -------------------------------------------------------------------------------------

Setup = Callable[[World, pytest.FixtureRequest], Callable[[], object]]


@dataclasses.dataclass(frozen=True)
class Case:
    event_type: str
    setup: Setup  # prepares, and returns the action
    seen: frozenset[str]
    actor: str | None = None
    id: str = ""


def _grant_on_project(w, request):
    newcomer = UserFactory(username="newcomer")
    role = _role(RoleName.PROJECT_MEMBER)
    return lambda: federation.role_grant(actor=w.owner, scope=w.project, user=newcomer, role=role)


def _grant_on_customer(w, request):
    newcomer = UserFactory(username="newcomer")
    role = _role(RoleName.CUSTOMER_SUPPORT)
    return lambda: federation.role_grant(actor=w.staff, scope=w.customer, user=newcomer, role=role)


def _revoke(w, request):
    leaver = UserFactory(username="leaver")
    grant(leaver, w.project, RoleName.PROJECT_MEMBER)
    role = _role(RoleName.PROJECT_MEMBER)
    return lambda: federation.role_revoke(actor=w.owner, scope=w.project, user=leaver, role=role)


def _expire(w, request):
    grant(
        UserFactory(username="visitor"),
        w.project,
        RoleName.PROJECT_MEMBER,
        expiration_time=timezone.now() - timedelta(minutes=5),
    )
    return federation.roles_deactivate_expired


def _create_project(w, request):
    return lambda: federation.project_create(actor=w.owner, customer=w.customer, name="Ocean models")


def _update_project(w, request):
    def act():
        project = Project.objects.select_related("customer").get(id=w.project.id)
        return federation.project_update(actor=w.manager, project=project, description="Coupled ocean runs.")

    return act


def _project_ending(w, request):
    _set_end_date(Project, w.project, 7)
    return ending.projects_announce_ending


def _project_ended(w, request):
    _set_end_date(Project, w.project, -1)
    return ending.projects_announce_ended


def _resource_ending(w, request):
    _set_end_date(Resource, _ok_resource(w), 7)
    return marketplace.resources_announce_ending


def _provider_available(w, request):
    Provider.objects.filter(id=w.provider.id).update(available=False, consecutive_failures=9)
    return lambda: providers.provider_record_success(provider_id=w.provider.id, field="last_delivery_at")


def _provider_unavailable(w, request):
    failures = settings.PROVIDER_FAILURE_THRESHOLD - 1
    Provider.objects.filter(id=w.provider.id).update(consecutive_failures=failures)
    return lambda: providers.provider_record_failure(provider_id=w.provider.id, error="connection refused")


def _manifest_changed(w, request):
    server = request.getfixturevalue("manifest_server")
    Provider.objects.filter(id=w.provider.id).update(domain=server, manifest={"provider_id": "hpc-site"})
    return lambda: providers.manifest_pull(provider=Provider.objects.get(id=w.provider.id))


def _usage_decreased(w, request):
    resource = _ok_resource(w)
    _report(resource, "5")()
    return _report(resource, "3")


def _share_dates():
    today = timezone.localdate()
    return {"start_date": today, "end_date": today + timedelta(days=365)}


def _grant_share(w, request):
    return lambda: shares.share_grant(actor=w.staff, customer=w.customer, offering=w.offering,
                                      component_type="cpu_k_hours", amount=Decimal(1000), **_share_dates())  # fmt: skip


def _divide_share(w, request):
    root = shares.share_grant(actor=None, customer=w.customer, offering=w.offering, component_type="cpu_k_hours",
                              amount=Decimal(1000), **_share_dates())  # fmt: skip
    return lambda: shares.share_divide(actor=w.owner, parent=root, project=w.project, amount=Decimal(100))


def _change_share(w, request):
    root = shares.share_grant(actor=None, customer=w.customer, offering=w.offering, component_type="cpu_k_hours",
                              amount=Decimal(1000), **_share_dates())  # fmt: skip
    child = shares.share_divide(actor=None, parent=root, project=w.project, amount=Decimal(100))
    return lambda: shares.share_update(actor=w.owner, share=child, amount=Decimal(200))


def _gpu_policy(w):
    return policies.policy_create(actor=w.owner, scope=w.project, kind="usage", component_type="gpu_hours",
                                  limit_usage=100, thresholds=[{"percent": 100, "actions": ["notify"]}])  # fmt: skip


def _fire_policy(w, request):
    _gpu_policy(w)
    return _report(_ok_resource(w), "150")


def _undo_policy_firing(w, request):
    _gpu_policy(w)
    _report(_ok_resource(w), "150")()
    next_month = (timezone.localdate().replace(day=1) + timedelta(days=32)).replace(day=1)
    return lambda: policies.policy_firings_expire(today=next_month)


def _order_case(event_type, state, act, seen=ORDER_SEEN, actor=None):
    return Case(event_type, lambda w, r: act(w, _create_order(w, state)), seen, actor)


ORDER = OrderState
CASES = [
    Case("marketplace_order_created", lambda w, r: lambda: _place(w), ORDER_SEEN, "project_admin"),
    _order_case(
        "marketplace_order_approved",
        ORDER.PENDING_CONSUMER,
        lambda w, o: lambda: marketplace.order_approve_by_consumer(order=o.uuid, actor=w.manager),
        actor="manager",
    ),
    _order_case(
        "marketplace_order_executing",
        ORDER.PENDING_PROVIDER,
        lambda w, o: lambda: marketplace.order_approve_by_provider(order=o.uuid, actor=w.provider_owner),
        actor="provider_owner",
    ),
    _order_case("marketplace_order_completed", ORDER.EXECUTING, lambda w, o: _done(o)),
    _order_case("marketplace_order_failed", ORDER.EXECUTING, lambda w, o: _erred(o)),
    _order_case(
        "marketplace_order_rejected",
        ORDER.PENDING_CONSUMER,
        lambda w, o: lambda: marketplace.order_reject_by_consumer(order=o.uuid, actor=w.manager),
        actor="manager",
    ),
    _order_case("marketplace_order_canceled", ORDER.PENDING_CONSUMER, _cancel, actor="project_admin"),
    Case("marketplace_resource_create_requested", lambda w, r: lambda: _place(w), ORDER_SEEN, "project_admin"),
    _order_case("marketplace_resource_create_succeeded", ORDER.EXECUTING, lambda w, o: _done(o)),
    _order_case("marketplace_resource_create_failed", ORDER.EXECUTING, lambda w, o: _erred(o)),
    _order_case(
        "marketplace_resource_create_canceled", ORDER.PENDING_PROVIDER, _reject_by_provider, actor="provider_owner"
    ),
    Case(
        "marketplace_resource_update_requested",
        lambda w, r: (
            lambda resource: (
                lambda: marketplace.resource_update_limits(
                    resource=resource.uuid, actor=w.manager, limits={"cpu_k_hours": 300}
                )
            )
        )(_ok_resource(w)),
        ORDER_SEEN,
        "manager",
    ),
    Case(
        "marketplace_resource_update_limits_succeeded",
        lambda w, r: _done(_update_order(w, ORDER.EXECUTING)),
        ORDER_SEEN,
    ),
    Case(
        "marketplace_resource_update_limits_failed", lambda w, r: _erred(_update_order(w, ORDER.EXECUTING)), ORDER_SEEN
    ),
    Case(
        "marketplace_resource_update_canceled",
        lambda w, r: _cancel(w, _update_order(w, ORDER.PENDING_CONSUMER)),
        ORDER_SEEN,
        "project_admin",
    ),
    Case(
        "marketplace_resource_terminate_requested",
        lambda w, r: (lambda resource: lambda: marketplace.resource_terminate(resource=resource.uuid, actor=w.manager))(
            _ok_resource(w)
        ),
        ORDER_SEEN,
        "manager",
    ),
    Case(
        "marketplace_resource_terminate_succeeded",
        lambda w, r: _done(_terminate_order(w, ORDER.EXECUTING)),
        ORDER_SEEN,
    ),
    Case(
        "marketplace_resource_terminate_failed", lambda w, r: _erred(_terminate_order(w, ORDER.EXECUTING)), ORDER_SEEN
    ),
    Case(
        "marketplace_resource_terminate_canceled",
        lambda w, r: _reject_by_provider(w, _terminate_order(w, ORDER.PENDING_PROVIDER)),
        ORDER_SEEN,
        "provider_owner",
    ),
    Case("marketplace_resource_ending", _resource_ending, ORDER_SEEN),
    Case(
        "marketplace_resource_pause_succeeded",
        lambda w, r: _pause(w, paused_before=False),
        ORDER_SEEN,
        "provider_owner",
    ),
    Case(
        "marketplace_resource_resume_succeeded",
        lambda w, r: _pause(w, paused_before=True),
        ORDER_SEEN,
        "provider_owner",
    ),
    Case("role_granted", _grant_on_project, PROJECT_SEEN, "owner", id="role_granted-project"),
    Case("role_granted", _grant_on_customer, CUSTOMER_SEEN, "staff", id="role_granted-customer"),
    Case("role_revoked", _revoke, PROJECT_SEEN, "owner"),
    Case("role_expired", _expire, PROJECT_SEEN),
    Case("project_creation_succeeded", _create_project, NEW_PROJECT_SEEN, "owner"),
    Case("project_update_succeeded", _update_project, PROJECT_SEEN, "manager"),
    Case("project_ending", _project_ending, PROJECT_SEEN),
    Case("project_ended", _project_ended, PROJECT_SEEN),
    Case("provider_available", _provider_available, PROVIDER_SEEN),
    Case("provider_unavailable", _provider_unavailable, PROVIDER_SEEN),
    Case("provider_manifest_changed", _manifest_changed, PROVIDER_SEEN),
    Case(
        "marketplace_component_usage_reported",
        lambda w, r: _report(_ok_resource(w), "1.5"),
        ORDER_SEEN,
    ),
    Case("marketplace_component_usage_decreased", _usage_decreased, ORDER_SEEN),
    Case("share_granted", _grant_share, CUSTOMER_SEEN, "staff", id="share_granted-customer"),
    Case("share_granted", _divide_share, PROJECT_SEEN, "owner", id="share_granted-project"),
    Case("share_changed", _change_share, PROJECT_SEEN, "owner"),
    Case("policy_fired", _fire_policy, PROJECT_SEEN),
    Case("policy_firing_undone", _undo_policy_firing, PROJECT_SEEN),
]


def test_every_event_type_has_a_case():
    assert {case.event_type for case in CASES} == set(EVENT_TYPES)


@pytest.mark.parametrize("case", CASES, ids=[case.id or case.event_type for case in CASES])
def test_the_change_writes_its_event_in_its_transaction_and_the_right_people_see_it(api, world, request, case):
    act = case.setup(world, request)
    events_before = Event.objects.count()
    of_type = Event.objects.filter(event_type=case.event_type)
    of_type_before = of_type.count()
    with pytest.raises(RolledBack), transaction.atomic():
        act()
        assert of_type.count() == of_type_before + 1, "the event is written by the change, before it commits"
        raise RolledBack
    assert Event.objects.count() == events_before, "a rolled-back change left events behind"

    known = set(of_type.values_list("id", flat=True))
    act()
    new = list(of_type.exclude(id__in=known))
    assert len(new) == 1, new
    event = new[0]
    kind = EVENT_TYPES[case.event_type]
    assert event.scope_type in kind.scope.split("|")
    assert getattr(event, f"{event.scope_type}_uuid") == event.scope_uuid
    assert set(event.context) == set(kind.context)
    assert event.actor_uuid == (world.viewer(case.actor).uuid if case.actor else None)

    assert {name for name in VIEWERS if seen_by(api, world.viewer(name), event)} == case.seen
    assert api.as_user(None).get("/api/events/").status_code == 401
