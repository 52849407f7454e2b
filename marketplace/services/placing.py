"""Placing orders: a create order makes its resource, an update or terminate order changes one.

Each kind has its own service (`order_create`, `resource_update_limits`, `resource_terminate`);
they share the checks below and `_place`, which writes the order, moves a changed resource into
its "while open" state and takes the order through consumer review when its placer may approve it.
`order_place` is the API's one entry for an order of any type (Waldur's `POST /marketplace-orders/`).
The daily termination of expired projects places terminate orders, so it lives here too.

Who may order: owners, project managers and project admins (`actor=None` is the system). A resource
has at most one open order; a second one is a Conflict.
"""

from __future__ import annotations

import logging
import uuid as uuid_lib
from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from common.exceptions import Conflict, DomainError, PermissionDenied, ValidationFailed
from common.loading import load_row
from federation.models import Project, User
from federation.services import unique_slug
from marketplace.models import (
    OPEN_ORDER_STATES,
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

from ..checks import order_checks_run
from ..processors import capabilities
from ._state import record_created, set_state
from .outcomes import RESOURCE_STATE_WHILE_OPEN
from .state_machine import consumer_approved
from .validation import estimate_cost, validate_attributes, validate_limits

logger = logging.getLogger(__name__)

ResourceRef = Resource | uuid_lib.UUID | str
RESOURCE_STATES_ALLOWING = {
    OrderType.UPDATE: (ResourceState.OK,),
    OrderType.TERMINATE: (ResourceState.OK, ResourceState.ERRED),
}


# --- shared checks -------------------------------------------------------------------------------


def _check_may_order(actor: User | None, project: Project) -> None:
    if actor is not None and not can_order(actor, project):
        raise PermissionDenied("Only the project's managers and admins and the customer's owners may order for it.")


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


def _check_object(value, field: str, message: str = "Expected an object.") -> None:
    if value is not None and not isinstance(value, dict):
        raise ValidationFailed(message, field=field)


def _lock_resource(resource: ResourceRef) -> Resource:
    rows = Resource.objects.select_for_update(of=("self",)).select_related("offering", "project__customer", "plan")
    return load_row(rows, resource, missing="Resource not found.")


def _check_resource_free(resource: Resource, order_type: str) -> None:
    """The locked resource is in a state this order type may change, and has no open order."""
    allowed = RESOURCE_STATES_ALLOWING[order_type]
    if resource.state not in allowed:
        raise Conflict(f"The resource is {resource.state}; a {order_type} order needs it {' or '.join(allowed)}.")
    if Order.objects.open().filter(resource=resource).exists():
        raise Conflict("The resource already has an order pending or executing; wait for it or cancel it.")


# --- writing the order ---------------------------------------------------------------------------


def _place(
    *, order_type: str, actor: User | None, resource: Resource, plan: Plan | None, attributes: dict, limits: dict
) -> Order:
    """Write the order for `resource` and take it as far as its placer's role allows."""
    project, offering = resource.project, resource.offering
    try:
        with transaction.atomic():
            order = Order.objects.create(
                type=order_type,
                state=OrderState.PENDING_CONSUMER,
                offering=offering,
                plan=plan,
                project=project,
                resource=resource,
                attributes=attributes,
                limits=limits,
                cost=None if order_type == OrderType.TERMINATE else estimate_cost(plan, limits),
                created_by=actor,
            )
    except IntegrityError:
        raise Conflict("The resource already has an order pending or executing.") from None
    order.offering, order.project = offering, project
    record_created(order, actor=actor, message="Order placed.")
    if order_type == OrderType.CREATE:
        record_created(resource, actor=actor, message="Created with its create order.", order=order)
    else:
        set_state(
            resource,
            RESOURCE_STATE_WHILE_OPEN[order_type],
            actor=actor,
            message=f"{order_type} order {order.uuid} placed.",
            order=order,
        )
    if actor is None or can_review_as_consumer(actor, project):
        consumer_approved(order, actor=actor, message="Placed by someone who may approve it.")
    return order


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
    return resource


# --- the three kinds of order --------------------------------------------------------------------


def order_create(
    *,
    actor: User | None,
    project: Project,
    offering: Offering,
    plan: Plan | None,
    attributes: dict | None,
    limits: dict | None,
    accepting_terms_of_service: bool = False,
) -> Order:
    """A create order; it makes its resource (state `creating`) in the same transaction.

    The project must be open, the offering active, the plan one of its live plans (required when it
    has any), the attributes and limits valid for the offering, and its terms accepted when it has some.
    An order placed by someone who may approve it skips consumer review; an auto-approving offering
    skips provider review.
    """
    _check_may_order(actor, project)
    _check_project_open(project)
    _check_offering_orderable(offering)
    _check_plan(offering, plan, required=True)
    attributes = validate_attributes(offering.options, attributes, require_name=True, caps=capabilities(offering))
    limits = validate_limits(list(offering.components.all()), limits)
    if offering.has_terms and not accepting_terms_of_service:
        raise ValidationFailed(
            "The offering has terms of service; set this to true to accept them.", field="accepting_terms_of_service"
        )
    with transaction.atomic():
        order_checks_run(order_type=OrderType.CREATE, project=project, offering=offering, limits=limits)
        resource = _new_resource(
            actor=actor, project=project, offering=offering, plan=plan, attributes=attributes, limits=limits
        )
        return _place(
            order_type=OrderType.CREATE, actor=actor, resource=resource, plan=plan, attributes=attributes, limits=limits
        )


def resource_update_limits(
    *,
    resource: ResourceRef,
    actor: User | None,
    limits: dict | None,
    plan: Plan | None = None,
    attributes: dict | None = None,
) -> Order:
    """An update order: new limits merged over the current ones, and optionally another plan.

    The resource must be OK with no open order, its project open and its offering active, and
    something must change.
    """
    with transaction.atomic():
        resource = _lock_resource(resource)
        offering = resource.offering
        _check_may_order(actor, resource.project)
        _check_project_open(resource.project)
        _check_resource_free(resource, OrderType.UPDATE)
        _check_object(attributes, "attributes")
        _check_offering_orderable(offering)
        plan = plan or resource.plan
        if plan is not None and plan.id != resource.plan_id:
            _check_plan(offering, plan, required=False)
        _check_object(limits, "limits", "Expected an object {component_type: amount}.")
        new_limits = validate_limits(list(offering.components.all()), {**resource.limits, **(limits or {})})
        if new_limits == resource.limits and plan == resource.plan:
            raise ValidationFailed("The new limits equal the current ones; nothing to change.", field="limits")
        order_checks_run(
            order_type=OrderType.UPDATE,
            project=resource.project,
            offering=offering,
            limits=new_limits,
            resource=resource,
        )
        return _place(
            order_type=OrderType.UPDATE,
            actor=actor,
            resource=resource,
            plan=plan,
            attributes=attributes or {},
            limits=new_limits,
        )


def resource_terminate(*, resource: ResourceRef, actor: User | None, attributes: dict | None = None) -> Order:
    """A terminate order; the resource must be OK or erred with no open order (its project may have ended)."""
    with transaction.atomic():
        resource = _lock_resource(resource)
        _check_may_order(actor, resource.project)
        _check_resource_free(resource, OrderType.TERMINATE)
        _check_object(attributes, "attributes")
        return _place(
            order_type=OrderType.TERMINATE,
            actor=actor,
            resource=resource,
            plan=resource.plan,
            attributes=attributes or {},
            limits={},
        )


def order_place(
    *,
    actor: User | None,
    type: str,
    project: Project,
    offering: Offering,
    plan: Plan | None,
    attributes: dict | None,
    limits: dict | None,
    resource: Resource | None = None,
    accepting_terms_of_service: bool = False,
) -> Order:
    """An order of any type, as the API takes it: hands it to the service of its type.

    A create order names no resource; an update or terminate order names the resource it changes,
    which must belong to the given project and offering.
    """
    if type not in OrderType.values:
        raise ValidationFailed(f"Unknown order type {type!r}; use one of {', '.join(OrderType.values)}.", field="type")
    if type == OrderType.CREATE:
        if resource is not None:
            raise ValidationFailed("A create order makes a new resource; leave this out.", field="resource")
        return order_create(
            actor=actor,
            project=project,
            offering=offering,
            plan=plan,
            attributes=attributes,
            limits=limits,
            accepting_terms_of_service=accepting_terms_of_service,
        )
    if resource is None:
        raise ValidationFailed(f"A {type} order needs the resource it changes.", field="resource")
    if resource.project_id != project.id or resource.offering_id != offering.id:
        raise ValidationFailed("The resource belongs to another project or offering.", field="resource")
    if type == OrderType.UPDATE:
        return resource_update_limits(resource=resource, actor=actor, limits=limits, plan=plan, attributes=attributes)
    return resource_terminate(resource=resource, actor=actor, attributes=attributes)


# --- expiry --------------------------------------------------------------------------------------


def projects_terminate_expired(*, today: date | None = None) -> int:
    """Terminate orders for live resources of projects (or resources) past their end date; returns how many."""
    today = today or timezone.localdate()
    expired = (
        Resource.objects.filter(Q(project__end_date__lt=today) | Q(end_date__lt=today))
        .filter(state__in=[ResourceState.OK, ResourceState.ERRED])
        .exclude(orders__state__in=OPEN_ORDER_STATES)
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
