"""Policies: each action with its undo, once per threshold per period, evaluation at a fixed number of
queries per usage batch, and the order checks (409 naming the policy)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounting import periods
from accounting.policies import services
from accounting.policies.models import Policy, PolicyFiring
from accounting.services import UsageReport, usage_report
from common.exceptions import Conflict, ValidationFailed
from events.models import Event
from federation.models import RoleName
from marketplace import services as marketplace
from marketplace.models import Order, OrderType, Resource, ResourceState
from notifications.models import MailNotification
from notifications.services import notifications_from_events
from tests.factories import CustomerFactory, ProjectFactory, UserFactory, catalogue_offering, grant

GPU = "gpu_hours"


def _place(project, offering, actor=None):
    return marketplace.order_create(
        actor=actor,
        project=project,
        offering=offering,
        plan=offering.plans.get(),
        attributes={"name": "another"},
        limits={"cpu_k_hours": 10, "storage_tb": 1},
    )


def _raise(resource):
    return marketplace.resource_update_limits(resource=resource, actor=None, limits={"cpu_k_hours": 20})


def _fresh(resource) -> Resource:
    return Resource.objects.get(pk=resource.pk)


def _refused(call) -> str:
    with pytest.raises(Conflict) as refused:
        call()
    return refused.value.message


def _order_free(resource):
    """Cancel what the effects placed, so the next check starts from an OK resource without orders."""
    Order.objects.filter(resource=resource).delete()
    Resource.objects.filter(pk=resource.pk).update(state=ResourceState.OK)


# -- each action, its effect, and its undo --------------------------------------------------------


def _mails(project) -> set[tuple[str, str]]:
    notifications_from_events(list(Event.objects.filter(event_type="policy_fired").order_by("id")))
    return set(MailNotification.objects.values_list("user__username", "kind"))


def effect_notify(project, offering, resource, policy):
    return _mails(project) == {("manager", "usage"), ("owner", "usage")}


def effect_block_creation(project, offering, resource, policy):
    try:
        _place(project, offering)
    except Conflict as refused:
        assert str(policy.uuid) in refused.message and "blocks new orders" in refused.message
        return True
    Order.objects.filter(type=OrderType.CREATE, resource__name="another").delete()
    Resource.objects.filter(name="another").delete()
    return False


def effect_block_modification(project, offering, resource, policy):
    try:
        _raise(resource)
    except Conflict as refused:
        assert str(policy.uuid) in refused.message and "limit increases" in refused.message
        # a decrease is never blocked
        marketplace.resource_update_limits(resource=resource, actor=None, limits={"cpu_k_hours": 5})
        _order_free(resource)
        return True
    _order_free(resource)
    return False


def effect_pause(project, offering, resource, policy):
    return _fresh(resource).paused


def effect_terminate(project, offering, resource, policy):
    return Order.objects.filter(resource=resource, type=OrderType.TERMINATE).exists()


ACTIONS = [
    # action, its effect, whether undoing the firing takes the effect back
    ("notify", effect_notify, False),  # a mail sent stays sent
    ("block_creation", effect_block_creation, True),
    ("block_modification", effect_block_modification, True),
    ("pause", effect_pause, True),
    ("terminate", effect_terminate, False),  # a terminate order is never taken back
]


def _undo_by_rollover(policy, owner):
    firing = policy.firings.get()
    assert services.policy_firings_expire(today=firing.period_end) == 1


def _undo_by_raising_the_limit(policy, owner):
    services.policy_update(actor=owner, policy=policy, limit_usage=1000)


UNDOS = [("period_ended", _undo_by_rollover), ("limit_raised", _undo_by_raising_the_limit)]


@pytest.mark.parametrize(("action", "effect", "undone"), ACTIONS, ids=[a[0] for a in ACTIONS])
@pytest.mark.parametrize(("reason", "undo"), UNDOS, ids=[u[0] for u in UNDOS])
def test_each_action_fires_once_per_threshold_and_period_and_is_undone(
    project, offering, resource, owner, manager, action, effect, undone, reason, undo, report, add_policy
):
    policy = add_policy(owner, project, action)

    report(resource, 99)  # 99 %: below the threshold, nothing happens
    assert not PolicyFiring.objects.exists() and not effect(project, offering, resource, policy)

    report(resource, 100)  # 100 %: fires
    report(resource, 130)  # still over: the same threshold does not fire again this period
    firing = PolicyFiring.objects.get()
    assert (firing.threshold, firing.value, firing.limit, firing.active) == (100, 130 - 30, 100, True)
    assert firing.actions == [action]
    assert Event.objects.filter(event_type="policy_fired").count() == 1
    assert effect(project, offering, resource, policy)
    _order_free(resource) if action == "terminate" else None

    undo(policy, owner)
    firing.refresh_from_db()
    assert (firing.active, firing.undo_reason) == (False, reason)
    assert Event.objects.filter(event_type="policy_firing_undone", context__reason=reason).count() == 1
    if action == "terminate":
        assert firing.terminated_resources == [resource.id]
    elif undone:
        assert not effect(project, offering, resource, policy)


def test_thresholds_fire_in_turn_and_one_report_may_cross_several(project, resource, owner, report):
    policy = services.policy_create(
        actor=owner,
        scope=project,
        kind="usage",
        component_type=GPU,
        limit_usage=200,
        thresholds=[
            {"percent": 50, "actions": ["notify"]},
            {"percent": 80, "actions": ["notify"]},
            {"percent": 100, "actions": ["block_creation"]},
        ],  # fmt: skip
    )
    report(resource, 110)
    assert sorted(policy.firings.values_list("threshold", flat=True)) == [50]
    report(resource, 250)
    assert sorted(policy.firings.values_list("threshold", flat=True)) == [50, 80, 100]
    assert Event.objects.filter(event_type="policy_fired").count() == 3


def test_a_threshold_fired_last_period_fires_again_in_this_one(project, resource, owner, report, add_policy):
    policy = add_policy(owner, project, "notify")
    this = periods.period_containing("month", timezone.localdate())
    last = periods.period_containing("month", this.start.replace(day=1) - timedelta(days=1))
    PolicyFiring.objects.create(
        policy=policy, threshold=100, period_start=last.start, period_end=last.end, value=150, limit=100,
        actions=["notify"], active=False, fired_at=timezone.now(), undo_reason="period_ended",
    )  # fmt: skip
    report(resource, 150)
    assert sorted(policy.firings.values_list("period_start", flat=True)) == [last.start, this.start]


def test_usage_of_an_earlier_period_does_not_evaluate_the_policy(project, resource, owner, report, add_policy):
    add_policy(owner, project, "notify")
    last_year = date(timezone.localdate().year - 1, 1, 1)
    report(resource, 500, month=last_year)
    assert not PolicyFiring.objects.exists()


def test_a_firing_undone_by_a_raised_limit_fires_again_when_the_new_limit_is_reached(
    project, resource, owner, report, add_policy
):
    policy = add_policy(owner, project, "block_creation")
    report(resource, 120)
    services.policy_update(actor=owner, policy=policy, limit_usage=200)
    assert not policy.firings.get().active
    report(resource, 210)
    firing = policy.firings.get()  # the same row: once per threshold and period
    assert (firing.active, firing.value, firing.limit, firing.undo_reason) == (True, 210, 200, "")


def test_raising_the_limit_that_is_still_below_usage_keeps_the_firing(project, resource, owner, report, add_policy):
    policy = add_policy(owner, project, "pause")
    report(resource, 300)
    services.policy_update(actor=owner, policy=policy, limit_usage=200)
    assert policy.firings.get().active and _fresh(resource).paused


def test_changing_the_period_moves_the_firing_to_the_new_period(project, resource, owner, report, add_policy):
    policy = add_policy(owner, project, "block_creation")
    report(resource, 150)
    services.policy_update(actor=owner, policy=policy, period="annual")
    active = policy.firings.get(active=True)
    assert (active.period_start, active.period_end) == (
        date(timezone.localdate().year, 1, 1),
        date(timezone.localdate().year + 1, 1, 1),
    )


def test_a_resource_paused_by_two_policies_resumes_when_the_last_is_undone(
    project, resource, owner, customer, report, add_policy
):
    first = add_policy(owner, project, "pause")
    add_policy(owner, customer, "pause", limit=110)
    report(resource, 120)
    assert _fresh(resource).paused
    services.policy_update(actor=owner, policy=first, limit_usage=1000)
    assert _fresh(resource).paused  # the customer's policy still pauses it
    assert services.policy_firings_expire(today=periods.add_months(timezone.localdate().replace(day=1), 1)) == 1
    assert not _fresh(resource).paused


def test_a_resource_paused_by_hand_is_not_resumed_by_a_policy(project, resource, owner, staff, report, add_policy):
    from marketplace.services.pausing import resource_pause

    resource_pause(resource=resource, actor=staff, reason="maintenance")
    policy = add_policy(owner, project, "pause")
    report(resource, 150)
    services.policy_update(actor=owner, policy=policy, limit_usage=1000)
    assert _fresh(resource).paused


def test_deleting_a_policy_undoes_its_firings(project, offering, resource, owner, report, add_policy):
    policy = add_policy(owner, project, "pause", "block_creation")
    report(resource, 150)
    services.policy_delete(actor=owner, policy=policy)
    assert not _fresh(resource).paused and not Policy.objects.exists()
    assert Event.objects.filter(event_type="policy_firing_undone", context__reason="policy_deleted").exists()
    _place(project, offering)


# -- scopes and kinds ------------------------------------------------------------------------------

SCOPES = [
    # scope, whether a resource of another project of the same customer counts
    ("project", False),
    ("customer", True),
    ("offering", True),
]


@pytest.mark.parametrize(("scope", "sibling_counts"), SCOPES, ids=[s[0] for s in SCOPES])
def test_a_policy_measures_the_usage_of_its_whole_scope(
    scope, sibling_counts, project, customer, offering, staff, report, add_policy, make_resource
):
    first = make_resource(project, offering, "first")
    second = make_resource(ProjectFactory(customer=customer), offering, "second")
    target = {"project": project, "customer": customer, "offering": offering}[scope]
    policy = add_policy(staff, target, "notify")
    report(first, 60)
    report(second, 60)
    assert policy.firings.exists() == sibling_counts


def test_a_cost_policy_measures_the_estimated_cost_of_the_period(project, resource, owner, report):
    # fixed monthly cost of the limits (10 cpu × 2 + 1 storage × 5, spread over the limit's period) + usage × 3
    policy = services.policy_create(
        actor=owner, scope=project, kind="cost", limit_cost=300, thresholds=[{"percent": 100, "actions": ["notify"]}]
    )
    report(resource, 50)  # 150 of usage, plus the limits
    assert not policy.firings.exists()
    report(resource, 100)  # 300 of usage alone
    firing = policy.firings.get()
    assert firing.value >= 300 and firing.limit == 300


def test_a_usage_policy_of_a_project_blocks_only_offerings_with_its_component(
    project, resource, owner, report, add_policy
):
    other = catalogue_offering(customer=CustomerFactory(), name="Cloud")
    other.components.filter(type=GPU).delete()
    add_policy(owner, project, "block_creation")
    report(resource, 150)
    assert "blocks new orders" in _refused(lambda: _place(project, resource.offering))
    _place(project, other)


TWICE = [{"percent": 8, "actions": ["notify"]}] * 2
BAD = [
    ({"kind": "usage", "component_type": "", "limit_usage": 1}, "component_type"),
    ({"kind": "usage", "component_type": GPU, "limit_usage": 0}, "limit_usage"),
    ({"kind": "cost", "limit_cost": -1}, "limit_cost"),
    ({"kind": "cost", "limit_cost": 1, "period": "decade"}, "period"),
    ({"kind": "cost", "limit_cost": 1, "thresholds": []}, "thresholds"),
    ({"kind": "cost", "limit_cost": 1, "thresholds": [{"percent": 8, "actions": ["boom"]}]}, "thresholds.0.actions"),
    ({"kind": "cost", "limit_cost": 2, "thresholds": TWICE}, "thresholds.1.percent"),
]  # fmt: skip


@pytest.mark.parametrize(("fields", "field"), BAD)
def test_bad_policies_are_refused_naming_the_field(project, owner, fields, field):
    fields = {"thresholds": [{"percent": 100, "actions": ["notify"]}], **fields}
    with pytest.raises(ValidationFailed) as refused:
        services.policy_create(actor=owner, scope=project, **fields)
    assert refused.value.field == field
    assert not Policy.objects.exists()


# -- a fixed number of queries per usage batch ------------------------------------------------------


def _estate(count: int, customer, offering, owner, make_resource):
    """`count` projects with one resource each, each project with a usage and a cost policy."""
    resources = []
    for index in range(count):
        project = ProjectFactory(customer=customer)
        resources.append(make_resource(project, offering, f"r{index}"))
        services.policy_create(
            actor=owner,
            scope=project,
            kind="usage",
            component_type=GPU,
            limit_usage=100,
            thresholds=[
                {"percent": 50, "actions": ["notify", "block_creation"]},
                {"percent": 100, "actions": ["notify"]},
            ],
        )  # fmt: skip
        services.policy_create(
            actor=owner,
            scope=project,
            kind="cost",
            limit_cost=10**6,
            thresholds=[{"percent": 80, "actions": ["notify"]}],
        )
    return resources


def _batch(resources, amount):
    month = timezone.localdate().replace(day=1)
    return [UsageReport(r.id, GPU, month, Decimal(amount)) for r in resources]


# Whether any policy is set, the locked policies of the batch's projects, customers and offerings, the usage
# measure, the cost measure (resources, orders, plans, usage), the firings of the current periods; when
# thresholds fire, one INSERT of firings and one of events.
QUERIES_NOTHING_FIRES = 8
QUERIES_THRESHOLDS_FIRE = 10


def _evaluate(resources):
    months = {timezone.localdate().replace(day=1)}
    services.policies_evaluate_usage(resource_ids={r.id for r in resources}, months=months)


@pytest.mark.parametrize("count", [1, 20])
def test_policy_evaluation_costs_the_same_queries_for_1_and_20_policies_and_resources(
    count, customer, offering, owner, make_resource, django_assert_num_queries
):
    resources = _estate(count, customer, offering, owner, make_resource)
    usage_report(reports=_batch(resources, 10))
    with django_assert_num_queries(QUERIES_NOTHING_FIRES):
        _evaluate(resources)
    assert not PolicyFiring.objects.exists()

    usage_report(reports=_batch(resources, 60))  # every project's 50 % fires, in the batch's listener
    assert PolicyFiring.objects.count() == count
    PolicyFiring.objects.all().delete()
    with django_assert_num_queries(QUERIES_THRESHOLDS_FIRE):
        _evaluate(resources)  # the same evaluation, firing them all again
    assert PolicyFiring.objects.count() == count

    with django_assert_num_queries(QUERIES_NOTHING_FIRES):
        _evaluate(resources)  # fired already this period
    assert PolicyFiring.objects.count() == count


# -- the order checks, through the API ------------------------------------------------------------

ORDERS = "/api/marketplace-orders/"


def test_a_blocked_create_order_is_a_409_naming_the_policy(
    api, project, offering, resource, owner, manager, report, add_policy
):
    policy = add_policy(owner, project, "block_creation")
    report(resource, 100)
    body = {
        "project": f"http://testserver/api/projects/{project.uuid}/",
        "offering": f"http://testserver/api/marketplace-offerings/{offering.uuid}/",
        "plan": f"http://testserver/api/marketplace-plans/{offering.plans.get().uuid}/",
        "attributes": {"name": "more"},
        "limits": {"cpu_k_hours": 10, "storage_tb": 1},
    }
    before = Order.objects.count()
    response = api.as_user(manager).post(ORDERS, body, format="json")
    assert response.status_code == 409, response.json()
    assert str(policy.uuid) in str(response.json())
    assert Order.objects.count() == before


def test_a_blocked_limit_increase_is_a_409_and_a_decrease_passes(
    api, project, resource, owner, manager, report, add_policy
):
    policy = add_policy(owner, project, "block_modification")
    report(resource, 100)
    url = f"/api/marketplace-resources/{resource.uuid}/update_limits/"
    response = api.as_user(manager).post(url, {"limits": {"cpu_k_hours": 50}}, format="json")
    assert response.status_code == 409, response.json()
    assert str(policy.uuid) in str(response.json())
    response = api.as_user(manager).post(url, {"limits": {"cpu_k_hours": 5}}, format="json")
    assert response.status_code in (200, 201), response.json()


def test_a_firing_of_a_past_period_blocks_nothing_even_before_the_beat_undoes_it(
    project, offering, resource, owner, add_policy
):
    policy = add_policy(owner, project, "block_creation")
    last = periods.period_containing("month", timezone.localdate().replace(day=1) - timedelta(days=1))
    PolicyFiring.objects.create(
        policy=policy, threshold=100, period_start=last.start, period_end=last.end, value=150, limit=100,
        actions=["block_creation"], blocks_creation=True, fired_at=timezone.now(),
    )  # fmt: skip
    _place(project, offering)


def test_the_owner_of_another_customer_may_not_add_a_policy(project, outsider, add_policy):
    from common.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        add_policy(outsider, project, "notify")


def test_a_project_manager_may_not_add_a_policy(project, manager, add_policy):
    from common.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        add_policy(manager, project, "notify")


def test_an_offering_policy_is_managed_by_its_provider_owners(offering, add_policy):
    provider_owner = UserFactory(username="provider-owner")
    grant(provider_owner, offering.customer, RoleName.CUSTOMER_OWNER)
    policy = add_policy(provider_owner, offering, "notify")
    assert policy.scope_type == "offering"
