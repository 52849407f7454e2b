"""Every event type, with the scope it is seen through and the fields of its context.

Names follow Waldur's where Waldur has the same event (`marketplace_order_created`,
`role_granted`, `project_creation_succeeded`...). `docs/events.md` lists the same table for
readers; a test keeps the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EventType:
    name: str
    scope: str
    summary: str
    context: tuple[str, ...] = ()


_ORDER = ("order_type", "from_state", "state", "offering_name", "resource_name", "project_name")
_RESOURCE = ("from_state", "state", "order_uuid", "order_type", "resource_name", "offering_name", "project_name")
_ROLE = ("role", "user_uuid", "username", "project_name", "customer_name", "expiration_time")
_PROJECT = ("project_name", "customer_name", "end_date")
_PROVIDER = ("provider_slug", "provider_name")
_PAUSE = ("resource_name", "offering_name", "project_name", "reason")
_POLICY = ("policy_uuid", "scope_type", "scope_name", "kind", "component_type", "period", "period_start",
           "period_end", "threshold", "value", "limit", "actions")  # fmt: skip
_USAGE = ("component_type", "billing_period", "username", "usage", "previous_usage", "resource_name")
_SHARE = ("offering_name", "component_type", "amount", "start_date", "end_date", "customer_name", "project_name")

EVENT_TYPES: dict[str, EventType] = {
    event.name: event
    for event in (
        # Orders: one event per state the order enters.
        EventType("marketplace_order_created", "order", "An order was placed.", _ORDER),
        EventType(
            "marketplace_order_approved",
            "order",
            "The consumer side approved; it waits for the provider.",
            _ORDER,
        ),
        EventType(
            "marketplace_order_executing",
            "order",
            "The order was approved (by the provider or automatically) and handed to the provider.",
            _ORDER,
        ),
        EventType("marketplace_order_completed", "order", "The provider reported the order done.", _ORDER),
        EventType("marketplace_order_failed", "order", "The order erred.", (*_ORDER, "error_message")),
        EventType(
            "marketplace_order_rejected",
            "order",
            "The consumer or the provider rejected the order, with the reason given (may be empty).",
            (*_ORDER, "reject_reason"),
        ),
        EventType("marketplace_order_canceled", "order", "The order's creator or staff canceled it.", _ORDER),
        # Resources: what an order did to its resource.
        EventType("marketplace_resource_create_requested", "resource", "A create order was placed.", _RESOURCE),
        EventType("marketplace_resource_create_succeeded", "resource", "The resource was created.", _RESOURCE),
        EventType("marketplace_resource_create_failed", "resource", "Creating the resource erred.", _RESOURCE),
        EventType(
            "marketplace_resource_create_canceled", "resource", "The create order was rejected or canceled.", _RESOURCE
        ),
        EventType("marketplace_resource_update_requested", "resource", "An update order was placed.", _RESOURCE),
        EventType(
            "marketplace_resource_update_limits_succeeded",
            "resource",
            "The resource has new limits (and plan).",
            (*_RESOURCE, "old_limits", "limits"),
        ),
        EventType("marketplace_resource_update_limits_failed", "resource", "Changing the limits erred.", _RESOURCE),
        EventType(
            "marketplace_resource_update_canceled", "resource", "The update order was rejected or canceled.", _RESOURCE
        ),
        EventType("marketplace_resource_terminate_requested", "resource", "A terminate order was placed.", _RESOURCE),
        EventType("marketplace_resource_terminate_succeeded", "resource", "The resource was terminated.", _RESOURCE),
        EventType("marketplace_resource_terminate_failed", "resource", "Terminating the resource erred.", _RESOURCE),
        EventType(
            "marketplace_resource_terminate_canceled",
            "resource",
            "The terminate order was rejected or canceled.",
            _RESOURCE,
        ),
        EventType(
            "marketplace_resource_ending",
            "resource",
            "The resource's end date is near (sent the configured days before it).",
            ("resource_name", "project_name", "end_date", "days_left"),
        ),
        EventType(
            "marketplace_resource_pause_succeeded",
            "resource",
            "The resource was paused at its provider (no new work; data kept).",
            _PAUSE,
        ),
        EventType("marketplace_resource_resume_succeeded", "resource", "The paused resource was resumed.", _PAUSE),
        # Roles: scoped to the project or customer the role is on.
        EventType("role_granted", "project|customer", "Someone was given a role.", _ROLE),
        EventType("role_revoked", "project|customer", "Someone's role was taken away.", _ROLE),
        EventType("role_expired", "project|customer", "A role reached its expiration time.", _ROLE),
        # Projects.
        EventType("project_creation_succeeded", "project", "A project was created.", _PROJECT),
        EventType("project_update_succeeded", "project", "A project's details changed.", (*_PROJECT, "changed")),
        EventType(
            "project_ending",
            "project",
            "The project's end date is near (sent the configured days before it).",
            (*_PROJECT, "days_left"),
        ),
        EventType("project_ended", "project", "The project passed its end date.", _PROJECT),
        # Providers.
        EventType("provider_available", "provider", "A provider answers again.", _PROVIDER),
        EventType(
            "provider_unavailable", "provider", "A provider failed too often in a row.", (*_PROVIDER, "last_error")
        ),
        EventType(
            "provider_manifest_changed",
            "provider",
            "A provider published a different manifest.",
            (*_PROVIDER, "changed"),
        ),
        # Usage.
        EventType("marketplace_component_usage_reported", "resource", "Usage of a resource was reported.", _USAGE),
        EventType(
            "marketplace_component_usage_decreased",
            "resource",
            "A usage report lowered a total reported before (a correction).",
            _USAGE,
        ),
        # Shares: scoped to the customer (a customer's share) or the project (a project's share).
        EventType("share_granted", "project|customer", "A customer or a project was given a share.", _SHARE),
        EventType("share_changed", "project|customer", "A share's amount or dates changed.", (*_SHARE, "changed")),
        # Policies: scoped to the project or customer they limit (an offering's: its provider organisation).
        EventType("policy_fired", "project|customer", "A policy's threshold was reached this period.", _POLICY),
        EventType(
            "policy_firing_undone",
            "project|customer",
            "A firing's effects were undone (period over, limit raised, policy deleted).",
            (*_POLICY, "reason"),
        ),
    )
}


def event_type_names() -> list[str]:
    return sorted(EVENT_TYPES)
