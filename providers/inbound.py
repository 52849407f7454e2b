"""What providers tell us: order state updates, usage, confirmed user connections.

Every order update goes through the marketplace's services, so the same state machine and locks
apply as for a person; an update that does not fit the order's state changes nothing.

A provider's batch is answered item by item: an item that is not a valid message, or that cannot
be stored, is refused on its own (`accepted: false`, `retry: false`: sending it again cannot
help) while the valid items of the same batch are applied. `retry: true` marks a passing refusal
(the database was busy), after which the provider sends the item again.
"""

from __future__ import annotations

import logging
import uuid as uuid_lib
from datetime import date
from decimal import Context, Decimal

from django.db import DatabaseError, OperationalError, transaction
from django.utils import timezone

from accounting.services import UsageReport, usage_report
from federation.exceptions import DomainError
from federation.models import RoleGrant
from marketplace import services as marketplace
from marketplace.models import Order, Resource, ResourceState
from protocol.messages import MAX_USAGE_AMOUNT, ProtocolError, text_problem

from .models import OutboxMessage, Provider, UserConnection
from .payloads import membership_change

logger = logging.getLogger(__name__)

USAGE_PLACES = Decimal("1e-10")  # the decimal places usage is stored with


def _result(order_uuid: str | None, accepted: bool, detail: str = "") -> dict:
    return {"order_uuid": order_uuid, "accepted": accepted, "detail": detail, "retry": False}


def _invalid(error: ProtocolError) -> dict:
    """The answer for an item that is not a valid message: which field, and why; never worth resending."""
    return {"accepted": False, "detail": f"{error.field}: {error.reason}", "retry": False, "field": error.field}


def _raw_key(raw, key: str, kind=str):
    """The item's own id as sent, if it is a plausible one, so that a refusal names its item."""
    value = raw.get(key) if isinstance(raw, dict) else None
    if not isinstance(value, kind) or isinstance(value, bool) or len(str(value)) > 36:
        return None
    return None if isinstance(value, str) and text_problem(value) else value


def order_updates_receive(*, provider: Provider, items: list, raw: list) -> list[dict]:
    """A result per item of the request, in order: invalid items refused, the valid ones applied."""
    valid = [item for item in items if not isinstance(item, ProtocolError)]
    applied = iter(order_updates_apply(provider=provider, updates=valid))
    return [
        {"order_uuid": _raw_key(raw[i], "order_uuid"), **_invalid(item)}
        if isinstance(item, ProtocolError)
        else next(applied)
        for i, item in enumerate(items)
    ]


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


def usage_records_import(*, provider: Provider, records: list, raw: list | None = None) -> tuple[int, list[dict]]:
    """Month-cumulative usage records of this provider's resources, each on its own.

    `records` may hold ProtocolErrors for entries that did not parse (`raw` has the entries as
    sent). A record of an unknown resource, or one that cannot be stored, is refused while the
    others are stored. Returns (usage rows changed, a result per record in order).
    """
    raw = raw if raw is not None else [None] * len(records)
    wanted = {r.resource_uuid for r in records if not isinstance(r, ProtocolError)}
    resources = dict(
        Resource.objects.filter(uuid__in=wanted, offering__provider_link__provider=provider).values_list("uuid", "id")
    )
    changed, results, touched = 0, [], set()
    with transaction.atomic():
        for record, sent in zip(records, raw, strict=True):
            if isinstance(record, ProtocolError):
                results.append({"cursor": _raw_key(sent, "cursor", int), **_invalid(record)})
                continue
            resource_id = resources.get(uuid_lib.UUID(record.resource_uuid))
            outcome = _usage_store(provider, record, resource_id)
            if isinstance(outcome, dict):
                results.append({"cursor": record.cursor, **outcome})
                continue
            changed += outcome
            touched.add(resource_id)
            results.append({"cursor": record.cursor, "accepted": True, "detail": "", "retry": False})
        _refresh_current_usages(touched)
    return changed, results


def _usage_store(provider: Provider, record, resource_id: int | None) -> int | dict:
    """Store one record in a savepoint: the number of rows changed, or the refusal."""
    if resource_id is None:
        logger.warning("%s reported usage of unknown resource %s", provider.slug, record.resource_uuid)
        return {"accepted": False, "detail": "No such resource at this provider.", "retry": False}
    amount = Decimal(record.amount).quantize(USAGE_PLACES, context=Context(prec=60))
    if amount >= MAX_USAGE_AMOUNT:
        return {"accepted": False, "detail": "amount: too large to be stored", "retry": False}
    report = UsageReport(
        resource_id=resource_id,
        component_type=record.component_type,
        billing_period=date.fromisoformat(record.billing_month),
        usage=amount,
        username=record.username or "",
    )
    try:
        with transaction.atomic():
            return usage_report(reports=[report])
    except OperationalError as exc:
        logger.warning("%s usage record %s not stored for now: %s", provider.slug, record.cursor, exc)
        return {"accepted": False, "detail": "The database is busy; send the record again.", "retry": True}
    except DatabaseError as exc:
        logger.warning("%s usage record %s cannot be stored: %s", provider.slug, record.cursor, exc)
        return {"accepted": False, "detail": "The record cannot be stored.", "retry": False}


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
        .exclude(state=ResourceState.TERMINATED)
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
