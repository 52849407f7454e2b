"""What providers tell us: order state updates, usage, confirmed user connections.

Every order update goes through the marketplace's services, so the same state machine and locks
apply as for a person; an update that does not fit the order's state changes nothing.
"""

from __future__ import annotations

import logging
import uuid as uuid_lib
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from accounting.services import UsageReport, usage_report
from federation.exceptions import DomainError
from federation.models import RoleGrant
from marketplace import services as marketplace
from marketplace.models import Order, Resource

from .models import OutboxMessage, Provider, UserConnection
from .payloads import membership_change

logger = logging.getLogger(__name__)


def _result(order_uuid: str, accepted: bool, detail: str = "") -> dict:
    return {"order_uuid": order_uuid, "accepted": accepted, "detail": detail}


def order_updates_apply(*, provider: Provider, updates) -> list[dict]:
    """Apply each update on its own; one provider cannot touch another provider's orders.

    The batch shares one transaction, and the marketplace writes its state changes in bulk at the
    end; an update that does not fit its order's state changes nothing and the rest go on.
    """
    orders = {
        str(order.uuid): order
        for order in Order.objects.filter(
            uuid__in=[u.order_uuid for u in updates], offering__provider_link__provider=provider
        ).only("id", "uuid", "state")
    }
    results, seen = [], set()
    with transaction.atomic(), marketplace.batched_state_writes() as batch:
        batch.lock_orders(order.pk for order in orders.values())
        for update in updates:
            order = orders.get(update.order_uuid)
            if order is not None and update.order_uuid in seen:
                batch.flush()  # the same order twice: the second update must see the first one's writes
                order.refresh_from_db(fields=["state"])
            seen.add(update.order_uuid)
            results.append(_apply_one(order, update, batch))
    return results


def _apply_one(order, update, batch) -> dict:
    if order is None:
        return _result(update.order_uuid, False, "No such order at this provider.")
    if order.state == update.state:
        return _result(update.order_uuid, True, "Already applied.")
    try:
        with batch.attempt():
            if update.state == "executing":
                changed = marketplace.order_set_state_executing(order=order, actor=None)
            elif update.state == "done":
                changed = marketplace.order_set_state_done(order=order, actor=None, backend_id=update.backend_id or "")
            else:
                changed = marketplace.order_set_state_erred(
                    order=order, actor=None, error_message=update.error_message or "The provider reported an error."
                )
    except DomainError as exc:
        if Order.objects.filter(pk=order.pk, state=update.state).exists():
            return _result(update.order_uuid, True, "Already applied.")
        return _result(update.order_uuid, False, exc.message)
    order.state = changed.state
    return _result(update.order_uuid, True)


def usage_records_import(*, provider: Provider, records) -> int:
    """Month-cumulative usage records of this provider's resources; unknown resources are skipped."""
    resources = dict(
        Resource.objects.filter(
            uuid__in={r.resource_uuid for r in records}, offering__provider_link__provider=provider
        ).values_list("uuid", "id")
    )
    reports = []
    for record in records:
        resource_id = resources.get(uuid_lib.UUID(record.resource_uuid))
        if resource_id is None:
            logger.warning("%s reported usage of unknown resource %s", provider.slug, record.resource_uuid)
            continue
        try:
            amount = Decimal(record.amount)
        except InvalidOperation:
            continue
        reports.append(
            UsageReport(
                resource_id=resource_id,
                component_type=record.component_type,
                billing_period=date.fromisoformat(record.billing_month),
                usage=amount,
                username=record.username or "",
            )
        )
    changed = usage_report(reports=reports)
    _refresh_current_usages({r.resource_id for r in reports})
    return changed


def _refresh_current_usages(resource_ids: set[int]) -> None:
    from accounting.models import ComponentUsage

    month = timezone.localdate().replace(day=1)
    current: dict[int, dict] = {rid: {} for rid in resource_ids}
    rows = ComponentUsage.objects.filter(resource_id__in=resource_ids, billing_period=month, username="")
    for resource_id, component, usage in rows.values_list("resource_id", "component_type", "usage"):
        current[resource_id][component] = float(usage)
    for resource_id, usages in current.items():
        if usages:
            Resource.objects.filter(id=resource_id).update(current_usages=usages)


def connection_confirm(*, provider: Provider, connection_id: str, user_uuid: str, username: str) -> UserConnection:
    """The provider confirms our user's local username; projects with resources there learn of it."""
    from federation.exceptions import NotFound

    with transaction.atomic():
        connection = (
            UserConnection.objects.select_for_update()
            .select_related("user")
            .filter(uuid=connection_id, provider=provider, user__uuid=user_uuid)
            .first()
        )
        if connection is None:
            raise NotFound("No such connection request at this provider.")
        if connection.state == UserConnection.State.CONNECTED and connection.username == username:
            return connection
        UserConnection.objects.filter(provider=provider, user=connection.user, state="connected").exclude(
            id=connection.id
        ).delete()
        connection.state = UserConnection.State.CONNECTED
        connection.username = username
        connection.connected_at = timezone.now()
        connection.save(update_fields=["state", "username", "connected_at"])
        _announce_connected_user(provider, connection)
    return connection


def _announce_connected_user(provider: Provider, connection: UserConnection) -> None:
    """Projects of this user with live resources at the provider get the member with its username."""
    from .outbox import wake_relay

    project_ids = set(
        Resource.objects.filter(offering__provider_link__provider=provider)
        .exclude(state="terminated")
        .values_list("project_id", flat=True)
    )
    grants = RoleGrant.objects.active().filter(user=connection.user, project_id__in=project_ids)
    for grant in grants.select_related("project", "user", "role"):
        OutboxMessage.objects.create(
            provider=provider,
            kind=OutboxMessage.Kind.MEMBERSHIP,
            payload=membership_change(grant, "add", connection.username),
            next_attempt_at=timezone.now(),
        )
    wake_relay(provider.id)
