"""Queuing deliveries from new events: by type and scope, only to creators who may still subscribe and
see the event, once per event and hook, in a number of queries that does not grow with the events."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from events.models import Event
from events.services import event_build, event_record, events_dispatch, events_insert
from federation import services as structure
from federation.models import Role, RoleName
from tests.factories import ProjectFactory, ProviderFactory
from webhooks import services
from webhooks.models import WebhookDelivery

pytestmark = pytest.mark.django_db

DONE = "marketplace_order_completed"


def delivered_to(hook) -> set:
    return set(WebhookDelivery.objects.filter(hook=hook).values_list("event_uuid", flat=True))


def test_hooks_receive_the_events_of_their_scope_and_types(
    owner, manager, staff, customer, project, provision, hook_for, new_events
):
    other_project = ProjectFactory(customer=customer, name="Elsewhere")
    hooks = {
        "project, all types": hook_for(manager, "project", project.uuid),
        "project, done": hook_for(manager, "project", project.uuid, event_types=[DONE]),
        "other project": hook_for(owner, "project", other_project.uuid),
        "customer, done": hook_for(owner, "customer", customer.uuid, event_types=[DONE]),
        "resource": hook_for(owner, "resource", provision.resource.uuid),
        "order, done": hook_for(manager, "order", provision.order.uuid, event_types=[DONE]),
        "offering, done": hook_for(provision.provider_owner, "offering", provision.offering.uuid, event_types=[DONE]),
        "staff, everything done": hook_for(staff, event_types=[DONE]),
    }
    events = new_events()
    assert {e.event_type for e in events} >= {DONE, "marketplace_resource_create_succeeded"}
    queued = services.deliveries_queue(events)

    def uuids(condition):
        return {e.uuid for e in events if condition(e)}

    expected = {
        "project, all types": uuids(lambda e: e.project_uuid == project.uuid),
        "project, done": uuids(lambda e: e.project_uuid == project.uuid and e.event_type == DONE),
        "other project": set(),
        "customer, done": uuids(lambda e: e.customer_uuid == customer.uuid and e.event_type == DONE),
        "resource": uuids(lambda e: e.resource_uuid == provision.resource.uuid),
        "order, done": uuids(lambda e: e.order_uuid == provision.order.uuid and e.event_type == DONE),
        "offering, done": uuids(lambda e: e.event_type == DONE),
        "staff, everything done": uuids(lambda e: e.event_type == DONE),
    }
    assert {name: delivered_to(hook) for name, hook in hooks.items()} == expected
    assert queued == sum(len(v) for v in expected.values()) == WebhookDelivery.objects.count()
    assert len(expected["project, all types"]) == len(events) > len(expected["project, done"]) == 1


def test_the_payload_is_the_event_in_the_standard_webhooks_shape(manager, project, provision, hook_for, new_events):
    hook_for(manager, "project", project.uuid, event_types=[DONE])
    services.deliveries_queue(new_events())
    delivery = WebhookDelivery.objects.get()
    event = Event.objects.get(uuid=delivery.event_uuid)
    assert delivery.event_type == DONE and delivery.state == "pending" and delivery.attempts == 0
    created = event.created.isoformat().replace("+00:00", "Z")
    assert delivery.payload == {
        "type": DONE,
        "timestamp": created,
        "data": {
            "uuid": str(event.uuid),
            "event_type": DONE,
            "created": created,
            "message": event.message,
            "actor_uuid": None,
            "actor_username": "",
            "scope_type": "order",
            "scope_uuid": str(provision.order.uuid),
            "customer_uuid": str(project.customer.uuid),
            "project_uuid": str(project.uuid),
            "resource_uuid": str(provision.resource.uuid),
            "order_uuid": str(provision.order.uuid),
            "offering_uuid": str(provision.offering.uuid),
            "provider_uuid": None,
            "context": event.context,
        },
    }
    assert delivery.payload["data"]["context"]["state"] == "done"


def test_a_creator_who_lost_access_receives_nothing(owner, manager, customer, project, provision, hook_for, new_events):
    former = hook_for(manager, "project", project.uuid)
    kept = hook_for(owner, "project", project.uuid)
    structure.role_revoke(
        actor=owner, scope=project, user=manager, role=Role.objects.get(name=RoleName.PROJECT_MANAGER)
    )
    services.deliveries_queue(new_events())
    assert delivered_to(former) == set() and delivered_to(kept)
    former.refresh_from_db()
    assert former.is_active  # skipped, not failed: access given back, events flow again

    Event.objects.update(dispatched_at="2026-01-01T00:00:00Z")
    type(owner).objects.filter(id=owner.id).update(is_active=False)
    event_record(DONE, scope=("order", provision.order.uuid), project=project.uuid, customer=customer.uuid)
    before = WebhookDelivery.objects.count()
    services.deliveries_queue(new_events())
    assert WebhookDelivery.objects.count() == before  # a deactivated account's hooks receive nothing either


def test_an_event_the_creator_may_not_see_is_not_sent(owner, customer, hook_for):
    """The hook follows the customer, and the event names the customer, but it is scoped to a provider only
    the provider's operators see: the creator could not read it in /api/events/, so it is not sent."""
    provider = ProviderFactory(slug="elsewhere")
    hook = hook_for(owner, "customer", customer.uuid)
    hidden = event_record("provider_unavailable", scope=("provider", provider.uuid), customer=customer.uuid)
    shown = event_record(DONE, scope=("customer", customer.uuid))
    services.deliveries_queue([hidden, shown])
    assert delivered_to(hook) == {shown.uuid}


def test_an_event_handed_on_twice_is_queued_once(manager, project, provision, hook_for, new_events):
    hook = hook_for(manager, "project", project.uuid)
    events = new_events()
    first = services.deliveries_queue(events)
    services.deliveries_queue(events)
    assert WebhookDelivery.objects.filter(hook=hook).count() == first == len(events)


def test_the_dispatcher_hands_events_to_the_webhooks(manager, project, provision, hook_for):
    hook_for(manager, "project", project.uuid, event_types=[DONE])
    events_dispatch()
    assert WebhookDelivery.objects.get().event_type == DONE
    assert not Event.objects.filter(dispatched_at__isnull=True).exists()


def test_a_disabled_hook_receives_nothing(manager, project, provision, hook_for, new_events):
    hook = hook_for(manager, "project", project.uuid)
    services.webhook_disable(hook_id=hook.id, reason="Test.")
    assert services.deliveries_queue(new_events()) == 0


def _events(count, *, project, order_uuid):
    events_insert(
        event_build(DONE, scope=("order", order_uuid), project=project.uuid, customer=project.customer.uuid)
        for _ in range(count)
    )
    return list(Event.objects.filter(dispatched_at__isnull=True).order_by("-id")[:count])


@pytest.mark.parametrize("count", [1, 25])
def test_queries_do_not_grow_with_the_events(owner, manager, staff, customer, project, provision, hook_for, count):
    hook_for(manager, "project", project.uuid)
    hook_for(owner, "customer", customer.uuid, event_types=[DONE])
    hook_for(staff)
    Event.objects.update(dispatched_at="2026-01-01T00:00:00Z")
    events = _events(count, project=project, order_uuid=provision.order.uuid)
    with CaptureQueriesContext(connection) as queries:
        assert services.deliveries_queue(events) == 3 * count
    # hooks; per (creator, scope): visible, its owners, the role; per member creator: events visible; insert
    assert len(queries) == 1 + 2 * 3 + 2 + 1, [q["sql"][:120] for q in queries]
