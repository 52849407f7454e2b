"""Hooks: made by those who may subscribe (webhooks.permissions), changed by their creator or staff.

A hook is active or disabled. It is disabled by its creator (PATCH is_active=false), or by the
delivery task when its endpoint keeps failing or answers 410 Gone; either way `disabled_reason`
says why and its pending deliveries stop (they are marked failed). Enabling it clears the reason
and the failure count; events from then on are delivered.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Case, F, TextField, Value, When
from django.utils import timezone

from common.exceptions import Conflict, PermissionDenied, ValidationFailed
from common.updates import update_fields
from events.types import EVENT_TYPES

from ..destinations import destination_problem
from ..models import Webhook, WebhookDelivery
from ..permissions import can_manage_hook, check_may_subscribe
from ..signing import secret_new


def _clean_event_types(event_types) -> list[str]:
    names = sorted(set(event_types or ()))
    unknown = [name for name in names if name not in EVENT_TYPES]
    if unknown:
        raise ValidationFailed(f"Unknown event types: {', '.join(unknown)}.", field="event_types")
    return names


def _clean_destination(url: str) -> str:
    problem = destination_problem(url)
    if problem:
        raise ValidationFailed(problem, field="destination_url")
    return url


def webhook_create(
    *, actor, destination_url: str, event_types=None, scope_type: str | None = "", scope_uuid=None
) -> Webhook:
    """Subscribe `destination_url` to the events of one object (see webhooks.permissions for who may).

    The hook's secret is made here; the caller shows it once (`hook.secret`) and never again.
    """
    scope_type = scope_type or ""
    if scope_type and scope_uuid is None:
        raise ValidationFailed("Give the uuid of the object the hook follows.", field="scope_uuid")
    if scope_uuid is not None and not scope_type:
        raise ValidationFailed("Give the type of the object the hook follows.", field="scope_type")
    check_may_subscribe(actor, scope_type=scope_type, scope_uuid=scope_uuid)
    return Webhook.objects.create(
        created_by=actor,
        destination_url=_clean_destination(destination_url),
        event_types=_clean_event_types(event_types),
        scope_type=scope_type,
        scope_uuid=scope_uuid,
        secret=secret_new(),
    )


def _check_manager(actor, hook: Webhook) -> None:
    if not can_manage_hook(actor, hook):
        raise PermissionDenied("Only the hook's creator and staff may change it.")


def webhook_update(*, actor, hook: Webhook, **fields) -> Webhook:
    """Change the URL, the event types, or turn the hook off and on (on: as `webhook_enable`)."""
    _check_manager(actor, hook)
    changes = {}
    if "destination_url" in fields:
        changes["destination_url"] = _clean_destination(fields["destination_url"])
    if "event_types" in fields:
        changes["event_types"] = _clean_event_types(fields["event_types"])
    with transaction.atomic():
        update_fields(hook, **changes)
        active = fields.get("is_active")
        if active is False and hook.is_active:
            webhook_disable(hook_id=hook.id, reason=f"Turned off by {actor.username}.")
        elif active is True and not hook.is_active:
            _enable(hook)
    hook.refresh_from_db()
    return hook


def _enable(hook: Webhook) -> None:
    update_fields(hook, is_active=True, disabled_reason="", consecutive_failures=0)


def webhook_enable(*, actor, hook: Webhook) -> Webhook:
    """Turn a disabled hook on again, with its failure count reset."""
    _check_manager(actor, hook)
    with transaction.atomic():
        if Webhook.objects.select_for_update().filter(id=hook.id, is_active=True).exists():
            raise Conflict("The hook is active already.")
        _enable(hook)
    return hook


def webhook_delete(*, actor, hook: Webhook) -> None:
    _check_manager(actor, hook)
    hook.delete()


def webhook_disable(*, hook_id: int, reason: str) -> bool:
    """Disable the hook with the reason; its pending deliveries fail. False when it was disabled already."""
    with transaction.atomic():
        disabled = Webhook.objects.filter(id=hook_id, is_active=True).update(
            is_active=False, disabled_reason=reason[:2000], modified=timezone.now()
        )
        if disabled:
            WebhookDelivery.objects.filter(hook_id=hook_id, state=WebhookDelivery.State.PENDING).update(
                state=WebhookDelivery.State.FAILED,
                last_error=Case(
                    When(last_error="", then=Value("Not sent: the hook was disabled.")),
                    default=F("last_error"),
                    output_field=TextField(),
                ),
            )
    return bool(disabled)
