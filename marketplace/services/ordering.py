"""Placing orders: create, update and terminate, plus the daily termination of expired projects."""

from __future__ import annotations

import logging
import uuid as uuid_lib
from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from federation.exceptions import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed
from federation.models import Project, User
from federation.services import unique_slug
from marketplace.models import (
    Offering,
    OfferingState,
    Order,
    OrderState,
    OrderType,
    Plan,
    Resource,
    ResourceState,
)
from marketplace.permissions import can_order, can_review_as_consumer

from ..processors import capabilities
from ._state import record_created, set_resource_state
from .notifications import notify_order_waiting
from .orders import consumer_approved
from .outcomes import RESOURCE_STATE_WHILE_OPEN
from .validation import estimate_cost, validate_attributes, validate_limits

logger = logging.getLogger(__name__)

ResourceRef = Resource | uuid_lib.UUID | str
RESOURCE_STATES_ALLOWING = {
    OrderType.UPDATE: (ResourceState.OK,),
    OrderType.TERMINATE: (ResourceState.OK, ResourceState.ERRED),
}


def _check_project_open(project: Project) -> None:
    today = timezone.localdate()
    if project.end_date is not None and project.end_date < today:
        raise ValidationFailed(
            f"Project {project.name!r} ended on {project.end_date.isoformat()}; it takes no new orders.",
            field="project",
        )
    if not project.is_active:
        raise ValidationFailed(f"Project {project.name!r} is not active; it takes no new orders.", field="project")


def _check_offering_orderable(offering: Offering) -> None:
    if offering.state != OfferingState.ACTIVE:
        raise ValidationFailed(
            f"Offering {offering.name!r} is {offering.state}; only active offerings can be ordered.", field="offering"
        )


def _check_plan(offering: Offering, plan: Plan | None, *, required: bool) -> None:
    if plan is None:
        if required and offering.plans.filter(archived=False).exists():
            raise ValidationFailed("Choose one of the offering's plans.", field="plan")
        return
    if plan.offering_id != offering.id:
        raise ValidationFailed("The plan belongs to another offering.", field="plan")
    if plan.archived:
        raise ValidationFailed(f"Plan {plan.name!r} is archived; choose another.", field="plan")


def _lock_resource(resource: ResourceRef) -> Resource:
    rows = Resource.objects.select_for_update(of=("self",)).select_related("offering", "project__customer", "plan")
    key = resource.pk if isinstance(resource, Resource) else None
    try:
        found = rows.filter(pk=key).first() if key else rows.filter(uuid=uuid_lib.UUID(str(resource))).first()
    except ValueError:
        found = None
    if found is None:
        raise NotFound("Resource not found.")
    return found


def _new_resource(*, actor, project, offering, plan, attributes, limits) -> Resource:
    name = attributes["name"]
    fields = dict(
        name=name,
        description=attributes.get("description", ""),
        offering=offering,
        plan=plan,
        project=project,
        limits=limits,
        attributes=attributes,
        state=ResourceState.CREATING,
    )
    try:
        with transaction.atomic():
            resource = Resource.objects.create(slug=unique_slug(Resource, name, offering=offering), **fields)
    except IntegrityError:  # a concurrent order took the same slug; a random suffix cannot clash
        slug = f"{unique_slug(Resource, name, max_length=40, offering=offering)}-{uuid_lib.uuid4().hex[:8]}"
        resource = Resource.objects.create(slug=slug, **fields)
    record_created(resource, actor=actor, message="Created with its create order.")
    return resource


def _prepare_create(*, offering: Offering, plan: Plan | None, attributes, limits, accepted: bool):
    """Checks of a create order against the catalogue; returns the cleaned (attributes, limits)."""
    _check_offering_orderable(offering)
    _check_plan(offering, plan, required=True)
    attributes = validate_attributes(offering.options, attributes, require_name=True, caps=capabilities(offering))
    limits = validate_limits(list(offering.components.all()), limits)
    if offering.has_terms and not accepted:
        raise ValidationFailed(
            "The offering has terms of service; set this to true to accept them.", field="accepting_terms_of_service"
        )
    return attributes, limits


def _prepare_change(*, order_type, resource: Resource, project, offering, plan, attributes, limits):
    """Checks of an update or terminate order against its locked resource; returns (plan, attributes, limits)."""
    if resource.project_id != project.id or resource.offering_id != offering.id:
        raise ValidationFailed("The resource belongs to another project or offering.", field="resource")
    allowed = RESOURCE_STATES_ALLOWING[order_type]
    if resource.state not in allowed:
        raise Conflict(f"The resource is {resource.state}; a {order_type} order needs it {' or '.join(allowed)}.")
    if Order.objects.open().filter(resource=resource).exists():
        raise Conflict("The resource already has an order pending or executing; wait for it or cancel it.")
    if attributes is not None and not isinstance(attributes, dict):
        raise ValidationFailed("Expected an object.", field="attributes")
    if order_type == OrderType.TERMINATE:
        return resource.plan, attributes or {}, {}
    _check_offering_orderable(offering)
    plan = plan or resource.plan
    if plan is not None and plan.id != resource.plan_id:
        _check_plan(offering, plan, required=False)
    if limits is not None and not isinstance(limits, dict):
        raise ValidationFailed("Expected an object {component_type: amount}.", field="limits")
    new_limits = validate_limits(list(offering.components.all()), {**resource.limits, **(limits or {})})
    if new_limits == resource.limits and plan == resource.plan:
        raise ValidationFailed("The new limits equal the current ones; nothing to change.", field="limits")
    return plan, attributes or {}, new_limits


def order_create(
    *,
    actor: User | None,
    project: Project,
    offering: Offering,
    plan: Plan | None,
    attributes: dict | None,
    limits: dict | None,
    type: str = OrderType.CREATE,
    resource: ResourceRef | None = None,
    accepting_terms_of_service: bool = False,
) -> Order:
    """Place an order. Create orders make their resource (state `creating`) in the same transaction.

    Owners, project managers and project admins order; an order placed by someone who may approve it
    (owners, managers, operators, the system) skips consumer review, and an auto-approving offering
    skips provider review. A resource has at most one open order; a second one is a Conflict.
    """
    if type not in OrderType.values:
        raise ValidationFailed(f"Unknown order type {type!r}; use one of {', '.join(OrderType.values)}.", field="type")
    if actor is not None and not can_order(actor, project):
        raise PermissionDenied("Only the project's managers and admins and the customer's owners may order for it.")
    if type != OrderType.TERMINATE:
        _check_project_open(project)
    with transaction.atomic():
        if type == OrderType.CREATE:
            if resource is not None:
                raise ValidationFailed("A create order makes a new resource; leave this out.", field="resource")
            attributes, limits = _prepare_create(
                offering=offering, plan=plan, attributes=attributes, limits=limits, accepted=accepting_terms_of_service
            )
            resource = _new_resource(
                actor=actor, project=project, offering=offering, plan=plan, attributes=attributes, limits=limits
            )
        else:
            if resource is None:
                raise ValidationFailed(f"A {type} order needs the resource it changes.", field="resource")
            resource = _lock_resource(resource)
            plan, attributes, limits = _prepare_change(
                order_type=type,
                resource=resource,
                project=project,
                offering=offering,
                plan=plan,
                attributes=attributes,
                limits=limits,
            )
        try:
            with transaction.atomic():
                order = Order.objects.create(
                    type=type,
                    state=OrderState.PENDING_CONSUMER,
                    offering=offering,
                    plan=plan,
                    project=project,
                    resource=resource,
                    attributes=attributes,
                    limits=limits,
                    cost=None if type == OrderType.TERMINATE else estimate_cost(plan, limits),
                    created_by=actor,
                )
        except IntegrityError:
            raise Conflict("The resource already has an order pending or executing.") from None
        record_created(order, actor=actor, message="Order placed.")
        if type != OrderType.CREATE:
            set_resource_state(
                resource, RESOURCE_STATE_WHILE_OPEN[type], actor=actor, message=f"{type} order {order.uuid} placed."
            )
        order.offering, order.project = offering, project
        if actor is None or can_review_as_consumer(actor, project):
            consumer_approved(order, actor=actor, message="Placed by someone who may approve it.")
        else:
            notify_order_waiting(order)
    return order


def resource_update_limits(*, resource: ResourceRef, actor: User | None, limits: dict) -> Order:
    """An update order with new limits (merged over the current ones); the resource must be OK."""
    current = resource if isinstance(resource, Resource) else _find_resource(resource)
    return order_create(
        actor=actor,
        project=current.project,
        offering=current.offering,
        plan=None,
        attributes={},
        limits=limits,
        type=OrderType.UPDATE,
        resource=current,
    )


def resource_terminate(*, resource: ResourceRef, actor: User | None, attributes: dict | None = None) -> Order:
    """A terminate order; the resource must be OK or erred."""
    current = resource if isinstance(resource, Resource) else _find_resource(resource)
    return order_create(
        actor=actor,
        project=current.project,
        offering=current.offering,
        plan=None,
        attributes=attributes or {},
        limits=None,
        type=OrderType.TERMINATE,
        resource=current,
    )


def _find_resource(resource) -> Resource:
    try:
        found = (
            Resource.objects.select_related("offering", "project__customer")
            .filter(uuid=uuid_lib.UUID(str(resource)))
            .first()
        )
    except ValueError:
        found = None
    if found is None:
        raise NotFound("Resource not found.")
    return found


def projects_terminate_expired(*, today: date | None = None) -> int:
    """Terminate orders for live resources of projects (or resources) past their end date; returns how many."""
    today = today or timezone.localdate()
    expired = (
        Resource.objects.filter(Q(project__end_date__lt=today) | Q(end_date__lt=today))
        .filter(state__in=[ResourceState.OK, ResourceState.ERRED])
        .exclude(
            orders__state__in=[
                s.value for s in (OrderState.PENDING_CONSUMER, OrderState.PENDING_PROVIDER, OrderState.EXECUTING)
            ]
        )
        .values_list("uuid", flat=True)
    )
    created = 0
    for key in list(expired):
        try:
            resource_terminate(resource=key, actor=None, attributes={})
            created += 1
        except DomainError as exc:  # changed meanwhile (an order appeared, the state moved): try again tomorrow
            logger.info("Not terminating expired resource %s: %s", key, exc.message)
    return created
