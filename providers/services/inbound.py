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

from accounting.services import UsageReport, usage_report_each
from common.exceptions import DomainError, NotFound
from federation.models import RoleGrant
from marketplace import services as marketplace
from marketplace.models import Order, OrderState, Resource, ResourceState
from protocol.messages import MAX_USAGE_AMOUNT, ProtocolError, UsageRecord, parse_each, text_problem

from ..models import Provider, UserConnection
from ..selectors import provider_resource_ids
from .outbox import outbox_add_membership
from .usage_batch import plain_usage_batch

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

    The request's orders (and their resources) are locked together, and their state writes go to
    one StateWriteBatch, written when every update has been tried. Two updates of the same order
    are answered in turn, the later one seeing the earlier one's change (as if sent one after the
    other), and their row writes collapse into one update of the order. An update that does not
    fit its order's state changes nothing and the rest go on.
    """
    with transaction.atomic():
        batch = marketplace.StateWriteBatch()
        orders = batch.lock_orders(
            uuid__in=[update.order_uuid for update in updates], offering__provider_link__provider=provider
        )
        results = [_apply_one(orders.get(update.order_uuid), update, batch) for update in updates]
        batch.flush()
    return results


def _apply_one(order: Order | None, update, batch: marketplace.StateWriteBatch) -> dict:
    if order is None:
        return _result(update.order_uuid, False, "No such order at this provider.")
    if order.state == update.state:
        return _result(update.order_uuid, True, "Already applied.")
    try:
        with batch.attempt(order):
            _transition(order, update, batch)
    except DomainError as exc:
        return _result(update.order_uuid, False, exc.message)
    return _result(update.order_uuid, True)


def _transition(order: Order, update, batch: marketplace.StateWriteBatch) -> None:
    """The marketplace transition the reported state asks for, on the batch's locked order."""
    if update.state == OrderState.EXECUTING:
        marketplace.order_set_state_executing(order=order, actor=None, batch=batch)
    elif update.state == OrderState.DONE:
        marketplace.order_set_state_done(order=order, actor=None, backend_id=update.backend_id or "", batch=batch)
    else:
        marketplace.order_set_state_erred(
            order=order,
            actor=None,
            error_message=update.error_message or "The provider reported an error.",
            batch=batch,
        )


def usage_records_import(*, provider: Provider, records: list, raw: list | None = None) -> tuple[int, list[dict]]:
    """Month-cumulative usage records of this provider's resources, each on its own.

    `records` may hold ProtocolErrors for entries that did not parse (`raw` has the entries as
    sent). A record of an unknown resource, or one that cannot be stored, is refused while the
    others are stored (by the accounting service, one savepoint per record, which also refreshes the
    resources' current usage in the same transaction). Returns (usage rows changed, a result per
    record in order).
    """
    raw = raw if raw is not None else [None] * len(records)
    wanted = {str(uuid_lib.UUID(r.resource_uuid)) for r in records if not isinstance(r, ProtocolError)}
    resources = provider_resource_ids(provider, wanted)
    answers: list[dict | None] = []  # a refusal, or None for a record handed to accounting
    stored: list[tuple[object, UsageReport]] = []
    for record, sent in zip(records, raw, strict=True):
        if isinstance(record, ProtocolError):
            answers.append({"cursor": _raw_key(sent, "cursor", int), **_invalid(record)})
            continue
        report = _usage_report(provider, record, resources.get(str(uuid_lib.UUID(record.resource_uuid))))
        if isinstance(report, dict):
            answers.append({"cursor": record.cursor, **report})
            continue
        answers.append(None)
        stored.append((record, report))
    outcomes = iter(zip(stored, usage_report_each(reports=[report for _, report in stored]), strict=True))
    changed, results = 0, []
    for answer in answers:
        if answer is None:
            (record, _), outcome = next(outcomes)
            answer = _usage_answer(provider, record.cursor, outcome)
            changed += outcome if isinstance(outcome, int) else 0
        results.append(answer)
    return changed, results


def usage_batch_import(*, provider: Provider, data) -> tuple[int, list[dict]]:
    """A request's batch of usage records (`{"records": [...]}`): as `usage_records_import`, same answers.

    A batch whose every record is plainly valid (what providers send) is taken column by column
    (`plain_usage_batch`), without a message object per record; any other batch is parsed record by
    record, so that each bad record is refused naming its field, and the envelope's own errors raise
    ProtocolError.
    """
    batch = plain_usage_batch(data)
    if batch is None:
        records = parse_each(data, "records", UsageRecord.from_dict)
        return usage_records_import(provider=provider, records=records, raw=data["records"])
    wanted = set(batch.resource_uuids)
    resources = provider_resource_ids(provider, {uuid.lower() for uuid in wanted})
    resource_ids = {uuid: resources.get(uuid.lower()) for uuid in wanted}  # canonical: lower case is str(UUID)
    periods = {month: date.fromisoformat(month) for month in set(batch.billing_months)}
    context = Context(prec=60)
    answers: list[dict | None] = []  # a refusal, or None for a record handed to accounting
    reports: list[UsageReport] = []
    for resource_uuid, component_type, month, number, username in zip(
        batch.resource_uuids, batch.component_types, batch.billing_months, batch.amounts, batch.usernames, strict=True
    ):
        resource_id = resource_ids[resource_uuid]
        if resource_id is None:
            logger.warning("%s reported usage of unknown resource %s", provider.slug, resource_uuid)
            answers.append(_UNKNOWN_RESOURCE)
            continue
        amount = number.quantize(USAGE_PLACES, context=context)
        if amount >= MAX_USAGE_AMOUNT:
            answers.append(_TOO_LARGE)
            continue
        answers.append(None)
        reports.append(UsageReport(resource_id, component_type, periods[month], amount, username))
    outcomes = iter(usage_report_each(reports=reports))
    changed, results = 0, []
    for cursor, answer in zip(batch.cursors, answers, strict=True):
        if answer is None:
            outcome = next(outcomes)
            if type(outcome) is int:
                changed += outcome
                results.append({"cursor": cursor, "accepted": True, "detail": "", "retry": False})
                continue
            results.append(_usage_answer(provider, cursor, outcome))
            continue
        results.append({"cursor": cursor, **answer})
    return changed, results


_UNKNOWN_RESOURCE = {"accepted": False, "detail": "No such resource at this provider.", "retry": False}
_TOO_LARGE = {"accepted": False, "detail": "amount: too large to be stored", "retry": False}


def _usage_report(provider: Provider, record, resource_id: int | None) -> UsageReport | dict:
    """The report to store for one record, or the refusal of a record that cannot be one."""
    if resource_id is None:
        logger.warning("%s reported usage of unknown resource %s", provider.slug, record.resource_uuid)
        return dict(_UNKNOWN_RESOURCE)
    amount = Decimal(record.amount).quantize(USAGE_PLACES, context=Context(prec=60))
    if amount >= MAX_USAGE_AMOUNT:
        return dict(_TOO_LARGE)
    return UsageReport(
        resource_id=resource_id,
        component_type=record.component_type,
        billing_period=date.fromisoformat(record.billing_month),
        usage=amount,
        username=record.username or "",
    )


def _usage_answer(provider: Provider, cursor: int, outcome: int | DatabaseError) -> dict:
    answer = {"cursor": cursor, "accepted": True, "detail": "", "retry": False}
    if isinstance(outcome, OperationalError):
        logger.warning("%s usage record %s not stored for now: %s", provider.slug, cursor, outcome)
        return {**answer, "accepted": False, "detail": "The database is busy; send the record again.", "retry": True}
    if isinstance(outcome, DatabaseError):
        logger.warning("%s usage record %s cannot be stored: %s", provider.slug, cursor, outcome)
        return {**answer, "accepted": False, "detail": "The record cannot be stored."}
    return answer


def connection_confirm(*, provider: Provider, connection_id: str, user_uuid: str, username: str) -> UserConnection:
    """The provider confirms our user's local username; projects with resources there learn of it."""
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
        UserConnection.objects.filter(
            provider=provider, user=connection.user, state=UserConnection.State.CONNECTED
        ).exclude(id=connection.id).delete()
        connection.state = UserConnection.State.CONNECTED
        connection.username = username
        connection.connected_at = timezone.now()
        connection.save(update_fields=["state", "username", "connected_at"])
        _announce_connected_user(provider, connection)
    return connection


def _announce_connected_user(provider: Provider, connection: UserConnection) -> None:
    """Projects of this user with live resources at the provider get the member with its username."""
    project_ids = set(
        Resource.objects.filter(offering__provider_link__provider=provider)
        .exclude(state=ResourceState.TERMINATED)
        .values_list("project_id", flat=True)
    )
    grants = RoleGrant.objects.active().filter(user=connection.user, project_id__in=project_ids)
    for grant in grants.select_related("project", "user", "role"):
        outbox_add_membership(provider=provider, grant=grant, action="add", username=connection.username)
