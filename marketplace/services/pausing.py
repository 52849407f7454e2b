"""Pausing and resuming a resource at its provider: work stops (no new jobs), the data stays.

    OK, running ──resource_pause──▶ OK, paused ──resource_resume──▶ OK, running

`paused` is a flag beside the state, as Waldur has it: a paused resource is still `OK` (it exists,
it may be resumed, terminated or have its limits changed). Each function locks the resource row,
checks who asks and the state, sets the flag, records the event and hands the change to the
offering's processor (`pause(resource, paused, reason)`, which writes the provider's outbox row) — all in
one transaction, so a change the site refuses (a provider whose manifest does not offer pausing)
changes nothing.

Who may: staff and the owners of the offering's provider organisation (the ones who approve its
orders), or the system (`actor=None`: a policy, say). Pausing a paused resource or resuming a
running one is a Conflict for a person; for the system it is a no-op returning the resource, so a
policy that fires again, or a retried task, is harmless.
"""

from __future__ import annotations

from django.db import transaction

from common.exceptions import Conflict, PermissionDenied
from common.loading import load_row
from events.services import event_build, events_insert
from federation.models import User
from marketplace.models import Resource, ResourceState
from marketplace.permissions import can_review_as_provider
from marketplace.processors import pause_handler

from .placing import ResourceRef

WHO_MAY_PAUSE = "staff and the owners of the provider organisation"


def _lock(resource: ResourceRef) -> Resource:
    rows = Resource.objects.select_for_update(of=("self",)).select_related("offering__customer", "project__customer")
    return load_row(rows, resource, missing="Resource not found.")


def _event(resource: Resource, *, paused: bool, actor: User | None, reason: str):
    verb = "pause" if paused else "resume"
    project = resource.project
    message = f"{resource.name} was {'paused' if paused else 'resumed'}" + (f": {reason}" if reason else ".")
    return event_build(
        f"marketplace_resource_{verb}_succeeded",
        scope=("resource", resource.uuid),
        actor=actor,
        message=message,
        context={
            "resource_name": resource.name,
            "offering_name": resource.offering.name,
            "project_name": project.name,
            "reason": reason,
        },
        customer=project.customer.uuid,
        project=project.uuid,
        offering=resource.offering.uuid,
    )


def _set_paused(resource: ResourceRef, *, paused: bool, actor: User | None, reason: str) -> Resource:
    verb = "pause" if paused else "resume"
    with transaction.atomic():
        resource = _lock(resource)
        if actor is not None and not can_review_as_provider(actor, resource.offering):
            raise PermissionDenied(f"Only {WHO_MAY_PAUSE} may {verb} this resource.")
        if resource.paused == paused:
            if actor is None:
                return resource
            already = "already paused" if paused else "not paused"
            raise Conflict(f"Cannot {verb} the resource: it is {already}.")
        if resource.state != ResourceState.OK:
            raise Conflict(f"Cannot {verb} the resource: it is {resource.state}; this needs a resource that is OK.")
        resource.paused = paused
        resource.save(update_fields=["paused", "modified"])
        events_insert([_event(resource, paused=paused, actor=actor, reason=reason)])
        handler = pause_handler(resource.offering.type)
        if handler is not None:
            handler(resource, paused, reason)
        return resource


def resource_pause(*, resource: ResourceRef, actor: User | None, reason: str = "") -> Resource:
    """Stop new work of an OK resource at its provider; a Conflict if it is paused (a no-op for the system)."""
    return _set_paused(resource, paused=True, actor=actor, reason=reason)


def resource_resume(*, resource: ResourceRef, actor: User | None, reason: str = "") -> Resource:
    """Let a paused OK resource run again; a Conflict if it is not paused (a no-op for the system)."""
    return _set_paused(resource, paused=False, actor=actor, reason=reason)
