"""Writing to the outbox. Every write happens inside the caller's transaction; the relay is woken
after commit, and beat wakes it too, so a lost wake-up only delays delivery."""

from __future__ import annotations

from django.utils import timezone

from common.wakeups import wake_after_commit
from federation.models import RoleGrant
from marketplace.models import Resource, ResourceState

from ..models import OutboxMessage, Provider
from ..payloads import local_usernames, membership_change, order_item, pause_change


def wake_key(provider_id: int) -> str:
    return f"providers:relay-wake:{provider_id}"


def wake_relay(provider_id: int) -> None:
    """After commit, make sure a relay run for the provider is queued (one per provider at a time)."""
    from ..tasks import deliver_outbox

    wake_after_commit(deliver_outbox, provider_id, key=wake_key(provider_id))


def _outbox_put(*, provider: Provider, kind: str, payload: dict, order_uuid=None) -> OutboxMessage:
    """The one writer of outbox rows: the row joins the caller's transaction, the relay wakes after commit.

    A row with an `order_uuid` is written at most once (a unique constraint holds it): queueing the
    same order again gives back the row already there.
    """
    values = {"provider": provider, "kind": kind, "payload": payload, "next_attempt_at": timezone.now()}
    if order_uuid is None:
        message = OutboxMessage.objects.create(**values)
    else:
        message, _ = OutboxMessage.objects.get_or_create(kind=kind, order_uuid=order_uuid, defaults=values)
    wake_relay(provider.id)
    return message


def outbox_add_order(*, provider: Provider, order) -> OutboxMessage:
    """Queue the order for its provider; an order is queued at most once."""
    return _outbox_put(
        provider=provider, kind=OutboxMessage.Kind.ORDER, payload=order_item(order, provider), order_uuid=order.uuid
    )


def outbox_add_membership(*, provider: Provider, grant: RoleGrant, action: str, username: str | None) -> OutboxMessage:
    """Queue a membership change (`add` or `remove`) of a project member for the provider."""
    return _outbox_put(
        provider=provider, kind=OutboxMessage.Kind.MEMBERSHIP, payload=membership_change(grant, action, username)
    )


def outbox_add_pause(*, provider: Provider, resource: Resource, paused: bool, reason: str = "") -> OutboxMessage:
    """Queue a pause (or resume) of the resource for its provider, in the caller's transaction.

    The row's id is the change's `sequence`: the caller holds the resource's row lock, so a later
    change of the same resource is written after this one commits and gets a larger id.
    """
    message = _outbox_put(provider=provider, kind=OutboxMessage.Kind.PAUSE, payload={})
    message.payload = pause_change(resource, paused=paused, sequence=message.id, reason=reason)
    message.save(update_fields=["payload"])
    return message


def membership_listener(*, grant: RoleGrant, action: str) -> None:
    """Tell every provider that runs a live resource of the project about the membership change."""
    if grant.project_id is None:
        return
    provider_ids = (
        Resource.objects.filter(project_id=grant.project_id)
        .exclude(state=ResourceState.TERMINATED)
        .filter(offering__provider_link__isnull=False)
        .values_list("offering__provider_link__provider_id", flat=True)
        .distinct()
    )
    for provider in Provider.objects.filter(id__in=list(provider_ids)):
        username = local_usernames(provider, [grant.user_id]).get(grant.user_id)
        outbox_add_membership(provider=provider, grant=grant, action=action, username=username)
