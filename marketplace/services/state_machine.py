"""The order state machine. Every transition is one function, run under a row lock on the order.

    pending-consumer ──approve_by_consumer──▶ pending-provider ──approve_by_provider──▶ executing ──▶ done
         │   (skipped when the creator may approve)   │ (skipped when the offering auto-approves)  └──▶ erred
         ├──reject_by_consumer──▶ rejected            ├──reject_by_provider──▶ rejected
         └──cancel──▶ canceled                        └──cancel──▶ canceled

A rejection keeps the reviewer's reason on the order (`reject_reason`, optional here, required by the portal)
and in its history row and event, from which its creator is told.

`order` arguments take an Order or its uuid; the row is re-read under `SELECT ... FOR UPDATE` either way,
together with its resource, and the fresh order is returned. `actor=None` is the system or a provider
authenticated by the provider protocol (whose caller has checked the order is that provider's): the user
permission check is skipped, the state checks are not. A transition from the wrong state raises
InvalidTransition naming the current state and changes nothing.

The provider-facing transitions (`order_set_state_executing`, `_done`, `_erred`) also take `batch=`, a
`StateWriteBatch` their caller created for a request reporting on many orders: they then use the row the
batch holds locked and leave their writes in the batch (see `_state`). Without it they write at once.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from common.exceptions import InvalidTransition, PermissionDenied, ValidationFailed
from federation.models import User
from marketplace.models import PENDING_ORDER_STATES, Order, OrderState
from marketplace.permissions import can_cancel, can_review_as_consumer, can_review_as_provider
from marketplace.processors import get_processor

from ._state import OrderRef, StateWriteBatch, lock_order, set_state
from .outcomes import apply_outcome


def _begin(
    order: OrderRef,
    *,
    actor: User | None,
    sources: tuple[str, ...],
    verb: str,
    allowed: Callable[[User, Order], bool],
    who: str,
    batch: StateWriteBatch | None = None,
) -> Order:
    order = lock_order(order, batch=batch)
    if actor is not None and not allowed(actor, order):
        raise PermissionDenied(f"Only {who} may {verb} this order.")
    if order.state not in sources:
        raise InvalidTransition(
            f"Cannot {verb} the order: it is {order.state}; this needs an order that is {' or '.join(sources)}."
        )
    return order


def _consumer(user: User, order: Order) -> bool:
    return can_review_as_consumer(user, order.project)


def _provider(user: User, order: Order) -> bool:
    return can_review_as_provider(user, order.offering)


def _creator(user: User, order: Order) -> bool:
    return can_cancel(user, order)


REJECT_REASON_LENGTH = Order._meta.get_field("reject_reason").max_length


def _reject_reason(reason: str) -> str:
    """The reviewer's reason, trimmed; optional for API callers, bounded like the column."""
    reason = (reason or "").strip()
    if len(reason) > REJECT_REASON_LENGTH:
        raise ValidationFailed(f"Give the reason in at most {REJECT_REASON_LENGTH} characters.", field="reason")
    return reason


CONSUMER_REVIEWERS = "the project's managers and the customer's owners"
PROVIDER_REVIEWERS = "the owners of the provider organisation"


def enter_executing(
    order: Order,
    *,
    actor: User | None,
    message: str,
    fields: tuple[str, ...] = (),
    batch: StateWriteBatch | None = None,
) -> None:
    """Move to executing and hand the order to its processor in the same transaction."""
    set_state(order, OrderState.EXECUTING, actor=actor, message=message, fields=fields, batch=batch)
    get_processor(order.offering.type).submit(order)


def consumer_approved(order: Order, *, actor: User | None, message: str) -> None:
    """After consumer approval: provider review, unless the offering approves its orders itself."""
    now = timezone.now()
    order.consumer_reviewed_by, order.consumer_reviewed_at = actor, now
    fields = ("consumer_reviewed_by", "consumer_reviewed_at")
    if order.offering.auto_approve:
        order.provider_reviewed_at = now
        enter_executing(
            order,
            actor=actor,
            message=f"{message} The offering approves orders automatically.",
            fields=(*fields, "provider_reviewed_at"),
        )
    else:
        set_state(order, OrderState.PENDING_PROVIDER, actor=actor, message=message, fields=fields)


def _finish(
    order: Order,
    to_state: str,
    *,
    actor: User | None,
    message: str,
    fields=(),
    backend_id: str = "",
    batch: StateWriteBatch | None = None,
) -> None:
    order.completed_at = timezone.now()
    set_state(order, to_state, actor=actor, message=message, fields=("completed_at", *fields), batch=batch)
    apply_outcome(order, actor=actor, backend_id=backend_id, batch=batch)


def _rejected(order: Order, *, actor: User | None, by: str, reason: str, fields: tuple[str, ...]) -> None:
    """Finish the order as rejected, keeping the reason on the order and in its history row and event."""
    order.reject_reason = reason
    message = f"Rejected by the {by}: {reason}" if reason else f"Rejected by the {by}."
    _finish(order, OrderState.REJECTED, actor=actor, message=message, fields=(*fields, "reject_reason"))


@transaction.atomic
def order_approve_by_consumer(*, order: OrderRef, actor: User | None) -> Order:
    order = _begin(
        order,
        actor=actor,
        sources=(OrderState.PENDING_CONSUMER,),
        verb="approve",
        allowed=_consumer,
        who=CONSUMER_REVIEWERS,
    )
    consumer_approved(order, actor=actor, message="Approved by the consumer.")
    return order


@transaction.atomic
def order_reject_by_consumer(*, order: OrderRef, actor: User | None, reason: str = "") -> Order:
    """The project's side refuses the order; `reason` is told to its creator."""
    reason = _reject_reason(reason)
    order = _begin(
        order,
        actor=actor,
        sources=(OrderState.PENDING_CONSUMER,),
        verb="reject",
        allowed=_consumer,
        who=CONSUMER_REVIEWERS,
    )
    order.consumer_reviewed_by, order.consumer_reviewed_at = actor, timezone.now()
    _rejected(order, actor=actor, by="consumer", reason=reason, fields=("consumer_reviewed_by", "consumer_reviewed_at"))
    return order


@transaction.atomic
def order_approve_by_provider(*, order: OrderRef, actor: User | None) -> Order:
    order = _begin(
        order,
        actor=actor,
        sources=(OrderState.PENDING_PROVIDER,),
        verb="approve",
        allowed=_provider,
        who=PROVIDER_REVIEWERS,
    )
    order.provider_reviewed_by, order.provider_reviewed_at = actor, timezone.now()
    enter_executing(
        order, actor=actor, message="Approved by the provider.", fields=("provider_reviewed_by", "provider_reviewed_at")
    )
    return order


@transaction.atomic
def order_reject_by_provider(*, order: OrderRef, actor: User | None, reason: str = "") -> Order:
    """The provider refuses the order; `reason` is told to its creator."""
    reason = _reject_reason(reason)
    order = _begin(
        order,
        actor=actor,
        sources=(OrderState.PENDING_PROVIDER,),
        verb="reject",
        allowed=_provider,
        who=PROVIDER_REVIEWERS,
    )
    order.provider_reviewed_by, order.provider_reviewed_at = actor, timezone.now()
    _rejected(order, actor=actor, by="provider", reason=reason, fields=("provider_reviewed_by", "provider_reviewed_at"))
    return order


@transaction.atomic
def order_cancel(*, order: OrderRef, actor: User | None) -> Order:
    """The creator (or staff) withdraws an order that has not started executing."""
    order = _begin(
        order, actor=actor, sources=PENDING_ORDER_STATES, verb="cancel", allowed=_creator, who="its creator and staff"
    )
    _finish(order, OrderState.CANCELED, actor=actor, message="Canceled.")
    return order


@transaction.atomic
def order_set_state_executing(*, order: OrderRef, actor: User | None, batch: StateWriteBatch | None = None) -> Order:
    """The provider takes an order awaiting its review straight into execution."""
    order = _begin(
        order,
        actor=actor,
        sources=(OrderState.PENDING_PROVIDER,),
        verb="start executing",
        allowed=_provider,
        who=PROVIDER_REVIEWERS,
        batch=batch,
    )
    order.provider_reviewed_by, order.provider_reviewed_at = actor, timezone.now()
    enter_executing(
        order,
        actor=actor,
        message="Execution started by the provider.",
        fields=("provider_reviewed_by", "provider_reviewed_at"),
        batch=batch,
    )
    return order


@transaction.atomic
def order_set_state_done(
    *, order: OrderRef, actor: User | None, backend_id: str = "", batch: StateWriteBatch | None = None
) -> Order:
    """The provider reports success; a create order hands its `backend_id` to the new resource."""
    order = _begin(
        order,
        actor=actor,
        sources=(OrderState.EXECUTING,),
        verb="mark done",
        allowed=_provider,
        who=PROVIDER_REVIEWERS,
        batch=batch,
    )
    order.error_message = order.error_traceback = ""
    _finish(
        order,
        OrderState.DONE,
        actor=actor,
        message="Done.",
        fields=("error_message", "error_traceback"),
        backend_id=(backend_id or "").strip(),
        batch=batch,
    )
    return order


@transaction.atomic
def order_set_state_erred(
    *,
    order: OrderRef,
    actor: User | None,
    error_message: str,
    error_traceback: str = "",
    batch: StateWriteBatch | None = None,
) -> Order:
    order = _begin(
        order,
        actor=actor,
        sources=(OrderState.EXECUTING,),
        verb="mark erred",
        allowed=_provider,
        who=PROVIDER_REVIEWERS,
        batch=batch,
    )
    order.error_message, order.error_traceback = error_message or "", error_traceback or ""
    _finish(
        order,
        OrderState.ERRED,
        actor=actor,
        message=order.error_message or "Erred.",
        fields=("error_message", "error_traceback"),
        batch=batch,
    )
    return order
