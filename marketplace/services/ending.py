"""Announcing a resource's end: `marketplace_resource_ending` the configured days before its end date.

The same rule as a project's (`federation/ending.py`): once per warning of PROJECT_END_WARNING_DAYS,
recorded as an event that is also the record of what was announced, so a daily run repeated on
the same day records nothing new. A resource that is terminating or terminated is not announced.
"""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone

from events.services import event_build, events_insert
from federation.ending import ending_due, ending_horizon, endings_announced
from marketplace.models import Resource, ResourceState

ENDED_STATES = (ResourceState.TERMINATING, ResourceState.TERMINATED)


def _ending_event(resource: Resource, days_left: int):
    project = resource.project
    return event_build(
        "marketplace_resource_ending",
        scope=("resource", resource.uuid),
        customer=project.customer.uuid,
        project=project.uuid,
        offering=resource.offering.uuid,
        context={
            "resource_name": resource.name,
            "project_name": project.name,
            "end_date": resource.end_date.isoformat(),
            "days_left": days_left,
        },
    )


def resources_announce_ending(*, today: date | None = None) -> int:
    """Record `marketplace_resource_ending` for live resources whose end date is near; returns how many."""
    today = today or timezone.localdate()
    horizon = ending_horizon(today)
    if horizon is None:
        return 0
    with transaction.atomic():
        resources = list(
            Resource.objects.select_for_update(of=("self",))
            .select_related("project__customer", "offering")
            .filter(end_date__gte=today, end_date__lte=horizon)
            .exclude(state__in=ENDED_STATES)
            .order_by("id")
        )
        announced = endings_announced("marketplace_resource_ending", "resource", [r.uuid for r in resources])
        events = []
        for resource in resources:
            days_left = ending_due(end_date=resource.end_date, today=today, announced=announced[resource.uuid])
            if days_left is not None:
                events.append(_ending_event(resource, days_left))
        events_insert(events)
    return len(events)
