"""Who a batch of events concerns, loaded in a fixed number of queries whatever the batch's size.

`Audience.load(events)` reads the orders, the role grants (approvers and managers), the people
named by role events and the staff who asked for copies; the fan-out then decides per event
without touching the database.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import F, Q

from events.models import Event
from federation.models import RoleGrant, RoleName, User
from marketplace.models import Order, OrderState, Resource

ORDER_WAITING = {
    "marketplace_order_created": OrderState.PENDING_CONSUMER,
    "marketplace_order_approved": OrderState.PENDING_PROVIDER,
}
ORDER_OUTCOMES = ("marketplace_order_completed", "marketplace_order_failed", "marketplace_order_rejected")
MEMBERSHIP = ("role_granted", "role_revoked", "role_expired")
PROJECT_ENDING = ("project_ending", "project_ended")
RESOURCE_ENDING = ("marketplace_resource_ending", "marketplace_resource_terminate_succeeded")
POLICY_FIRED = ("policy_fired",)
HANDLED = frozenset((*ORDER_WAITING, *ORDER_OUTCOMES, *MEMBERSHIP, *PROJECT_ENDING, *RESOURCE_ENDING, *POLICY_FIRED))


def notifies(event: Event) -> bool:
    """A policy's firing is mailed only when `notify` is among the threshold's actions."""
    return event.event_type in POLICY_FIRED and "notify" in (event.context.get("actions") or [])


def reachable(user: User | None) -> bool:
    return user is not None and user.is_active and bool(user.email)


def _uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


@dataclass
class Audience:
    orders: dict[uuid.UUID, Order] = field(default_factory=dict)
    users: dict[uuid.UUID, User] = field(default_factory=dict)
    owners: dict[int, list[User]] = field(default_factory=lambda: defaultdict(list))  # customer id →
    managers: dict[int, list[User]] = field(default_factory=lambda: defaultdict(list))  # project id →
    managers_by_uuid: dict[uuid.UUID, list[User]] = field(default_factory=lambda: defaultdict(list))  # project uuid →
    owners_by_uuid: dict[uuid.UUID, list[User]] = field(default_factory=lambda: defaultdict(list))  # customer uuid →
    resource_projects: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)
    staff_copies: list[User] = field(default_factory=list)

    @classmethod
    def load(cls, events: list[Event]) -> Audience:
        audience = cls()
        audience._load_orders(events)
        audience._load_resource_projects(events)
        audience._load_grants(events)
        audience._load_people(events)
        audience.staff_copies = list(
            User.objects.filter(is_staff=True, is_active=True, notification_settings__staff_copy=True)
            .exclude(email="")
            .order_by("id")
        )
        return audience

    def _load_orders(self, events):
        keys = {e.order_uuid for e in events if e.event_type in ORDER_WAITING or e.event_type in ORDER_OUTCOMES}
        if keys:
            rows = Order.objects.filter(uuid__in=keys).select_related(
                "project__customer", "offering__customer", "resource", "plan", "created_by"
            )
            self.orders = {order.uuid: order for order in rows}

    def _load_resource_projects(self, events):
        """Resource events name their project; an event that does not is completed from the resource."""
        keys = {e.resource_uuid for e in events if e.event_type in RESOURCE_ENDING and not e.project_uuid}
        if keys:
            self.resource_projects = dict(Resource.objects.filter(uuid__in=keys).values_list("uuid", "project__uuid"))

    def project_of(self, event: Event) -> uuid.UUID | None:
        return event.project_uuid or self.resource_projects.get(event.resource_uuid)

    def _load_grants(self, events):
        """Owners and managers for waiting orders (consumer and provider side), managers for endings."""
        owner_customers, manager_projects = set(), set()
        for event in events:
            order = self.orders.get(event.order_uuid)
            if event.event_type in ORDER_WAITING and order is not None:
                if order.state == OrderState.PENDING_CONSUMER:
                    owner_customers.add(order.project.customer_id)
                    manager_projects.add(order.project_id)
                elif order.state == OrderState.PENDING_PROVIDER:
                    owner_customers.add(order.offering.customer_id)
        ending = {self.project_of(e) for e in events if e.event_type in (*PROJECT_ENDING, *RESOURCE_ENDING)} - {None}
        policies = [e for e in events if notifies(e)]
        ending |= {e.project_uuid for e in policies if e.scope_type == "project"}
        owner_keys = {e.customer_uuid for e in policies} - {None}
        if not (owner_customers or manager_projects or ending or owner_keys):
            return
        grants = (
            RoleGrant.objects.active()
            .filter(
                Q(role__name=RoleName.CUSTOMER_OWNER, customer_id__in=owner_customers)
                | Q(role__name=RoleName.CUSTOMER_OWNER, customer__uuid__in=owner_keys)
                | Q(role__name=RoleName.PROJECT_MANAGER, project_id__in=manager_projects)
                | Q(role__name=RoleName.PROJECT_MANAGER, project__uuid__in=ending)
            )
            .select_related("user")
            .annotate(role_name=F("role__name"), project_key=F("project__uuid"), customer_key=F("customer__uuid"))
            .order_by("user_id")
        )
        for grant in grants:
            if grant.role_name == RoleName.CUSTOMER_OWNER:
                self.owners[grant.customer_id].append(grant.user)
                self.owners_by_uuid[grant.customer_key].append(grant.user)
            else:
                self.managers[grant.project_id].append(grant.user)
                self.managers_by_uuid[grant.project_key].append(grant.user)

    def _load_people(self, events):
        keys = {_uuid(e.context.get("user_uuid")) for e in events if e.event_type in MEMBERSHIP} - {None}
        if keys:
            self.users = {user.uuid: user for user in User.objects.filter(uuid__in=keys)}

    def person_of(self, event: Event) -> User | None:
        return self.users.get(_uuid(event.context.get("user_uuid")))

    def approvers(self, order: Order) -> list[User]:
        """Who may approve the order in its current state: the consumer's managers and owners, or the
        provider organisation's owners (the same people the permissions let approve)."""
        if order.state == OrderState.PENDING_CONSUMER:
            people = [*self.managers.get(order.project_id, []), *self.owners.get(order.project.customer_id, [])]
        elif order.state == OrderState.PENDING_PROVIDER:
            people = list(self.owners.get(order.offering.customer_id, []))
        else:
            people = []
        return _unique(people)

    def project_managers(self, project_uuid) -> list[User]:
        return _unique(self.managers_by_uuid.get(project_uuid, []))

    def policy_recipients(self, event: Event) -> list[User]:
        """A policy's firing: the project's managers (a project's policy) and the organisation's owners."""
        managers = self.managers_by_uuid.get(event.project_uuid, []) if event.scope_type == "project" else []
        return _unique([*managers, *self.owners_by_uuid.get(event.customer_uuid, [])])


def _unique(people: list[User]) -> list[User]:
    seen, result = set(), []
    for person in people:
        if person.id not in seen:
            seen.add(person.id)
            result.append(person)
    return result
