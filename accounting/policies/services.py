"""Writes of policies: manage them, evaluate them as usage arrives, act when a threshold is crossed, undo.

    (threshold reached) ──fire──▶ firing active ──period over / limit raised / policy deleted──▶ undone

Evaluation (`policies_evaluate_usage`, a usage listener) runs in the usage batch's transaction and
costs a fixed number of queries whatever the number of resources and policies: the policies of
the batch's projects, customers and offerings, locked in id order so two batches cannot fire one
threshold twice (1), what each measures (`selectors.policy_measures`: 1 for usage
policies, 4 for cost policies), the firings of their current periods (1), then one INSERT of the
new firings and one of their events. Only the policies of the batch's scopes whose current period
holds a month the batch changed are looked at. Pausing and terminating act per resource: they cost
queries per resource, once per threshold and period, when the threshold fires.

Once per threshold per period: a firing row is unique on (policy, threshold, period start). A
firing undone because the policy changed (its limit raised, say) fires again, on the same row,
when the usage reaches the threshold of the new limit.

Effects: `block_creation` and `block_modification` hold while the firing is active and its period
current (the order checks in `checks` read them); `pause` pauses the scope's running resources through
`marketplace.services.resource_pause` and remembers which, to resume them on undo (unless another
active firing still pauses them: it takes them over); `terminate` places terminate orders (never
undone); `notify` asks the notifications app to mail the managers and owners (the `usage` mail kind).
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.db import connection, transaction
from django.utils import timezone

from common.exceptions import DomainError, PermissionDenied, ValidationFailed
from events.services import event_build, events_insert
from federation.models import Customer, Project, User
from federation.permissions import can_manage_customer
from marketplace.models import Offering, OfferingComponent, Resource, ResourceState
from marketplace.services import resource_terminate
from marketplace.services.pausing import resource_pause, resource_resume

from . import selectors
from .models import Policy, PolicyAction, PolicyFiring, PolicyKind, PolicyPeriod, PolicyScope

logger = logging.getLogger(__name__)

MAX_THRESHOLDS = 10
UNDO = PolicyFiring.UndoReason


# --- managing policies ---------------------------------------------------------------------------


def _owner_customer(scope) -> Customer:
    if isinstance(scope, Project):
        return scope.customer
    if isinstance(scope, Offering):
        return scope.customer
    return scope


def _check_may_manage(actor: User, scope) -> None:
    if not can_manage_customer(actor, _owner_customer(scope)):
        raise PermissionDenied("Only staff and the organisation's owners may manage its policies.")


def _decimal(value, field: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationFailed("Expected a number.", field=field) from None
    if not number.is_finite() or number <= 0:
        raise ValidationFailed("Expected a positive number.", field=field)
    return number


def validate_thresholds(thresholds) -> list[dict]:
    """[{"percent": 80, "actions": ["notify"]}, ...]: distinct positive percents, known actions; sorted."""
    if not isinstance(thresholds, list) or not thresholds:
        raise ValidationFailed('Expected a list like [{"percent": 100, "actions": ["notify"]}].', field="thresholds")
    if len(thresholds) > MAX_THRESHOLDS:
        raise ValidationFailed(f"At most {MAX_THRESHOLDS} thresholds.", field="thresholds")
    cleaned, seen = [], set()
    for index, threshold in enumerate(thresholds):
        if not isinstance(threshold, dict) or set(threshold) - {"percent", "actions"}:
            raise ValidationFailed('Expected {"percent": number, "actions": [...]}.', field=("thresholds", index))
        percent = _decimal(threshold.get("percent"), f"thresholds.{index}.percent")
        if percent > 1000 or percent != percent.quantize(Decimal("0.01")):
            raise ValidationFailed(
                "Expected a percent up to 1000, two decimals at most.", field=f"thresholds.{index}.percent"
            )
        if percent in seen:
            raise ValidationFailed(f"{percent}% is given twice.", field=f"thresholds.{index}.percent")
        seen.add(percent)
        actions = threshold.get("actions")
        if not isinstance(actions, list) or not actions:
            raise ValidationFailed("Name at least one action.", field=f"thresholds.{index}.actions")
        for action in actions:
            if action not in PolicyAction.values:
                raise ValidationFailed(
                    f"Unknown action {action!r}; use {', '.join(PolicyAction.values)}.",
                    field=f"thresholds.{index}.actions",
                )
        percent_value = int(percent) if percent == percent.to_integral_value() else float(percent)
        cleaned.append({"percent": percent_value, "actions": list(dict.fromkeys(actions))})
    return sorted(cleaned, key=lambda t: t["percent"])


def _apply_fields(policy: Policy, *, kind, period, limit_cost, component_type, limit_usage, thresholds) -> None:
    if kind not in PolicyKind.values:
        raise ValidationFailed(f"Use one of {', '.join(PolicyKind.values)}.", field="kind")
    if period not in PolicyPeriod.values:
        raise ValidationFailed(f"Use one of {', '.join(PolicyPeriod.values)}.", field="period")
    policy.kind, policy.period = kind, period
    if kind == PolicyKind.COST:
        if limit_usage is not None or component_type:
            raise ValidationFailed("A cost policy has limit_cost, not a component.", field="component_type")
        policy.limit_cost = _decimal(limit_cost, "limit_cost")
        policy.component_type, policy.limit_usage = "", None
    else:
        if limit_cost is not None:
            raise ValidationFailed(
                "A usage policy has a component and limit_usage, not limit_cost.", field="limit_cost"
            )
        if not component_type:
            raise ValidationFailed("Name the component whose usage is limited.", field="component_type")
        policy.component_type = component_type
        policy.limit_usage = _decimal(limit_usage, "limit_usage")
        policy.limit_cost = None
        if (
            policy.offering_id
            and not OfferingComponent.objects.filter(offering_id=policy.offering_id, type=component_type).exists()
        ):
            raise ValidationFailed(f"The offering has no component {component_type!r}.", field="component_type")
    policy.thresholds = validate_thresholds(thresholds)


def policy_create(
    *,
    actor: User,
    scope: Project | Customer | Offering,
    kind: str,
    thresholds: list,
    period: str = PolicyPeriod.MONTH,
    limit_cost=None,
    component_type: str = "",
    limit_usage=None,
) -> Policy:
    """A policy on a project, a customer or an offering; staff and the owning organisation's owners.

    It is evaluated at once: thresholds already reached this period fire now.
    """
    _check_may_manage(actor, scope)
    scope_type = {Project: PolicyScope.PROJECT, Customer: PolicyScope.CUSTOMER, Offering: PolicyScope.OFFERING}[
        type(scope)
    ]
    policy = Policy(scope_type=scope_type, created_by=actor, **{scope_type: scope})
    _apply_fields(
        policy,
        kind=kind,
        period=period,
        limit_cost=limit_cost,
        component_type=component_type,
        limit_usage=limit_usage,
        thresholds=thresholds,
    )
    with transaction.atomic():
        policy.save()
        _evaluate([policy], today=timezone.localdate(), now=timezone.now())
    return policy


def policy_update(*, actor: User, policy: Policy, **changes) -> Policy:
    """Change a policy's limit, period or thresholds, then evaluate it again.

    Active firings of this period whose threshold is no longer reached (the limit was raised, a
    threshold moved or went) are undone: their blocks lift and the resources they paused resume.
    Thresholds the new terms reach fire.
    """
    _check_may_manage(actor, policy.scope)
    unknown = set(changes) - {"period", "limit_cost", "component_type", "limit_usage", "thresholds"}
    if unknown:
        raise ValidationFailed("This cannot be changed; make a new policy.", field=sorted(unknown)[0])
    with transaction.atomic():
        policy = (
            Policy.objects.select_for_update(of=("self",))
            .select_related("project__customer", "customer", "offering__customer")
            .get(pk=policy.pk)
        )
        fields = {
            "kind": policy.kind,
            "period": policy.period,
            "limit_cost": policy.limit_cost,
            "component_type": policy.component_type,
            "limit_usage": policy.limit_usage,
            "thresholds": policy.thresholds,
        }
        if policy.kind == PolicyKind.COST:
            fields.pop("limit_usage"), fields.pop("component_type")
            fields.update(limit_usage=None, component_type="")
        else:
            fields["limit_cost"] = None
        fields.update(changes)
        _apply_fields(policy, **fields)
        policy.save()
        today, now = timezone.localdate(), timezone.now()
        current = selectors.current_period(policy, today)
        stale = policy.firings.select_for_update().filter(active=True)
        stale = stale.exclude(period_start=current.start, period_end=current.end)
        _undo(list(stale.select_related("policy")), reason=UNDO.LIMIT_RAISED, now=now, today=today)  # a new period kind
        _evaluate([policy], today=today, now=now, undo_unreached=True)
    return policy


def policy_delete(*, actor: User, policy: Policy) -> None:
    """Delete a policy; its active firings are undone first (blocks lift, paused resources resume)."""
    _check_may_manage(actor, policy.scope)
    with transaction.atomic():
        active = list(
            PolicyFiring.objects.select_for_update(of=("self",))
            .filter(policy=policy, active=True)
            .select_related("policy__project__customer", "policy__customer", "policy__offering__customer")
        )
        _undo(active, reason=UNDO.POLICY_DELETED, now=timezone.now(), today=timezone.localdate())
        policy.delete()


# --- evaluating ----------------------------------------------------------------------------------


def policies_evaluate_usage(*, resource_ids: set[int], months: set[date]) -> None:
    """The usage listener: evaluate the policies of the batch's scopes whose period holds a changed month.

    Most batches arrive where no policy is set at all: one cheap look says so before the query that
    finds and locks the policies of the batch's scopes is built."""
    if not _any_policy():
        return
    today = timezone.localdate()
    policies = [
        policy
        for policy in selectors.policies_of_resources(resource_ids, lock=True)
        if any(selectors.current_period(policy, today).holds_month(month) for month in months)
    ]
    if policies:
        _evaluate(policies, today=today, now=timezone.now())


def _any_policy() -> bool:
    """`Policy.objects.exists()`, as raw SQL: asked for every usage batch, where composing the ORM's
    query cost more than running it."""
    with connection.cursor() as cursor:
        cursor.execute(_ANY_POLICY)
        return bool(cursor.fetchone()[0])


_ANY_POLICY = f"SELECT EXISTS (SELECT 1 FROM {Policy._meta.db_table})"  # noqa: S608  (a constant name)


def _reached(policy: Policy, percent: Decimal) -> list[dict]:
    return [t for t in policy.thresholds if Decimal(str(t["percent"])) <= percent]


def _evaluate(
    policies: list[Policy], *, today: date, now: datetime, undo_unreached: bool = False
) -> list[PolicyFiring]:
    """Fire the thresholds each policy's measure reaches and that have not fired this period."""
    measures = selectors.policy_measures(policies, today=today)
    existing = selectors.firings_of_current_periods(policies, today)
    new, rearmed, unreached = [], [], []
    for policy in policies:
        value, limit = measures[policy.id], policy.limit
        percent = selectors.percent_of(value, limit)
        reached = {Decimal(str(t["percent"])): t["actions"] for t in _reached(policy, percent)}
        period = selectors.current_period(policy, today)
        for threshold, actions in reached.items():
            firing = existing.get((policy.id, threshold))
            if firing is None:
                firing = PolicyFiring(policy=policy, threshold=threshold, period_start=period.start)
                new.append(firing)
            elif not firing.active and firing.undo_reason == UNDO.LIMIT_RAISED:
                rearmed.append(firing)
            else:
                continue
            _arm(firing, period=period, value=value, limit=limit, actions=actions, now=now)
        if undo_unreached:
            unreached += [
                f
                for (pid, threshold), f in existing.items()
                if pid == policy.id and f.active and threshold not in reached
            ]
    if unreached:
        _undo(unreached, reason=UNDO.LIMIT_RAISED, now=now, today=today)
    if new:
        PolicyFiring.objects.bulk_create(new)
    if rearmed:
        PolicyFiring.objects.bulk_update(
            rearmed,
            [
                "period_end",
                "value",
                "limit",
                "actions",
                "blocks_creation",
                "blocks_modification",
                "active",
                "fired_at",
                "undone_at",
                "undo_reason",
                "paused_resources",
            ],
        )
    fired = new + rearmed
    for firing in fired:
        _act_on_resources(firing)
    events_insert(_event("policy_fired", firing) for firing in fired)
    return fired


def _arm(firing: PolicyFiring, *, period, value, limit, actions, now) -> None:
    firing.period_end = period.end
    firing.value, firing.limit, firing.actions = value, limit, list(actions)
    firing.blocks_creation = PolicyAction.BLOCK_CREATION in actions
    firing.blocks_modification = PolicyAction.BLOCK_MODIFICATION in actions
    firing.active, firing.fired_at, firing.undone_at, firing.undo_reason = True, now, None, ""
    firing.paused_resources = []  # those it paused before were resumed (or taken over) when it was undone


def _scope_resources(policy: Policy):
    """The policy's live resources: for a usage policy, those whose offering has its component."""
    if policy.scope_type == PolicyScope.PROJECT:
        rows = Resource.objects.filter(project_id=policy.project_id)
    elif policy.scope_type == PolicyScope.CUSTOMER:
        rows = Resource.objects.filter(project__customer_id=policy.customer_id)
    else:
        rows = Resource.objects.filter(offering_id=policy.offering_id)
    if policy.kind == PolicyKind.USAGE:
        rows = rows.filter(offering__components__type=policy.component_type)
    return rows.order_by("id")


def _act_on_resources(firing: PolicyFiring) -> None:
    """Pause and terminate, resource by resource; a resource that cannot be changed now is skipped."""
    policy, reason = firing.policy, reason_of(firing)
    if PolicyAction.PAUSE in firing.actions:
        for resource in _scope_resources(policy).filter(state=ResourceState.OK, paused=False):
            if _quietly(resource_pause, resource=resource, actor=None, reason=reason):
                firing.paused_resources.append(resource.id)
    if PolicyAction.TERMINATE in firing.actions:
        for resource in _scope_resources(policy).filter(state__in=[ResourceState.OK, ResourceState.ERRED]):
            if _quietly(resource_terminate, resource=resource, actor=None, attributes={}):
                firing.terminated_resources = [*firing.terminated_resources, resource.id]
    if firing.paused_resources or firing.terminated_resources:
        firing.save(update_fields=["paused_resources", "terminated_resources"])


def _quietly(service, **kwargs) -> bool:
    try:
        with transaction.atomic():
            service(**kwargs)
        return True
    except DomainError as exc:
        logger.info("policy action %s on resource %s not taken: %s", service.__name__, kwargs["resource"].id, exc)
        return False


def reason_of(firing: PolicyFiring) -> str:
    policy = firing.policy
    what = "cost" if policy.kind == PolicyKind.COST else f"usage of {policy.component_type}"
    return (
        f"policy {policy.uuid}: the {what} of {policy.scope_type} {policy.scope_name} reached "
        f"{firing.threshold.normalize():f}% of {firing.limit.normalize():f} this {policy.period}"
    )


# --- undoing -------------------------------------------------------------------------------------


def policy_firings_expire(*, today: date | None = None) -> int:
    """Undo the active firings of periods that have ended (the beat task); returns how many."""
    today = today or timezone.localdate()
    with transaction.atomic():
        firings = list(
            PolicyFiring.objects.select_for_update(of=("self",))
            .filter(active=True, period_end__lte=today)
            .select_related("policy__project__customer", "policy__customer", "policy__offering__customer")
            .order_by("id")
        )
        _undo(firings, reason=UNDO.PERIOD_ENDED, now=timezone.now(), today=today)
    return len(firings)


def _undo(firings: list[PolicyFiring], *, reason: str, now: datetime, today: date) -> None:
    """End the firings' effects: blocks lift with `active`; paused resources resume unless another active
    pausing firing covers them (it takes them over, to resume them when it ends)."""
    if not firings:
        return
    for firing in firings:
        firing.active, firing.undone_at, firing.undo_reason = False, now, reason
    PolicyFiring.objects.bulk_update(firings, ["active", "undone_at", "undo_reason"])
    paused = {rid: firing for firing in firings for rid in firing.paused_resources}
    if paused:
        _resume(paused, undone={f.id for f in firings}, today=today)
    events_insert(_event("policy_firing_undone", firing) for firing in firings)


def _resume(paused: dict[int, PolicyFiring], *, undone: set[int], today: date) -> None:
    resources = (
        Resource.objects.filter(id__in=list(paused))
        .select_related("project")
        .prefetch_related("offering__components")
        .order_by("id")
    )
    pausing = [
        f
        for f in PolicyFiring.objects.filter(active=True, period_end__gt=today)
        .exclude(id__in=undone)
        .select_related("policy")
        .order_by("id")
        if PolicyAction.PAUSE in f.actions
    ]
    taken_over = set()
    for resource in resources:
        keeper = next((f for f in pausing if _covers(f.policy, resource)), None)
        if keeper is not None:
            keeper.paused_resources.append(resource.id)
            taken_over.add(keeper)
            continue
        firing = paused[resource.id]
        _quietly(
            resource_resume,
            resource=resource,
            actor=None,
            reason=f"{reason_of(firing)} — undone ({firing.undo_reason})",
        )
    if taken_over:
        PolicyFiring.objects.bulk_update(list(taken_over), ["paused_resources"])


def _covers(policy: Policy, resource: Resource) -> bool:
    if policy.kind == PolicyKind.USAGE and policy.component_type not in {
        c.type for c in resource.offering.components.all()
    }:
        return False
    return selectors._covers(policy, resource.project_id, resource.project.customer_id, resource.offering_id)


# --- events --------------------------------------------------------------------------------------


def _event(event_type: str, firing: PolicyFiring):
    policy = firing.policy
    concerns: dict = {}
    if policy.scope_type == PolicyScope.PROJECT:
        scope = ("project", policy.project.uuid)
        concerns["customer"] = policy.project.customer.uuid
    elif policy.scope_type == PolicyScope.CUSTOMER:
        scope = ("customer", policy.customer.uuid)
    else:  # an offering's policy is seen by its provider organisation
        scope = ("customer", policy.offering.customer.uuid)
        concerns["offering"] = policy.offering.uuid
    context = {
        "policy_uuid": str(policy.uuid),
        "scope_type": policy.scope_type,
        "scope_name": policy.scope_name,
        "kind": policy.kind,
        "component_type": policy.component_type,
        "period": policy.period,
        "period_start": firing.period_start.isoformat(),
        "period_end": firing.period_end.isoformat(),
        "threshold": _plain(firing.threshold),
        "value": _plain(firing.value),
        "limit": _plain(firing.limit),
        "actions": list(firing.actions),
    }
    if event_type == "policy_firing_undone":
        context["reason"] = firing.undo_reason
        message = f"Undone ({firing.get_undo_reason_display().lower()}): {reason_of(firing)}."
    else:
        message = f"Fired: {reason_of(firing)}; actions: {', '.join(firing.actions)}."
    return event_build(event_type, scope=scope, message=message[:1000], context=context, **concerns)


def _plain(value) -> str:
    return format(Decimal(value).normalize(), "f")
