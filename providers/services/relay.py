"""Delivering the outbox: batches per provider, rows locked with SKIP LOCKED while they are sent.

The rows stay locked for the length of one HTTP call (bounded by PROVIDER_TIMEOUT). A worker that
dies mid-call releases them with its connection, and they are sent again; the provider treats a
second delivery of an order as the same order (idempotent by order uuid), and a pause or a
membership change as the same change (by its change id), so nothing is lost and nothing happens twice.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from common.backoff import backoff_delay
from marketplace import services as marketplace
from marketplace.models import FINAL_ORDER_STATES, OPEN_ORDER_STATES, Order

from ..client import ProviderCallFailed, ProviderClient
from ..models import OutboxMessage, Provider
from .health import provider_record_failure, provider_record_success
from .signing import current_signing_key

logger = logging.getLogger(__name__)


def retry_delay(attempts: int) -> float:
    """Exponential backoff with jitter, capped: about base·2^(n-1) seconds, at most the cap."""
    return backoff_delay(attempts, base=settings.PROVIDER_RETRY_BASE, cap=settings.PROVIDER_RETRY_CAP)


def outbox_deliver(*, provider_id: int) -> tuple[int, float | None]:
    """Send every due message of the provider. Returns (delivered, seconds until the next retry or None)."""
    delivered = 0
    for kind in (OutboxMessage.Kind.ORDER, OutboxMessage.Kind.MEMBERSHIP, OutboxMessage.Kind.PAUSE):
        while True:
            sent, more = _deliver_batch(provider_id, kind)
            delivered += sent
            if not more:
                break
    return delivered, _next_retry_in(provider_id)


def _next_retry_in(provider_id: int) -> float | None:
    """When the earliest pending message not held by another run is due.

    Messages another run is sending (locked) are left to that run, which looks again when its call
    returns: a run must not come back every fraction of a second while a call to a slow provider lasts.
    """
    with transaction.atomic():
        row = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(provider_id=provider_id, state=OutboxMessage.State.PENDING)
            .order_by("next_attempt_at")
            .values_list("next_attempt_at", flat=True)
            .first()
        )
    return None if row is None else max((row - timezone.now()).total_seconds(), 0.0)


def _deliver_batch(provider_id: int, kind: str) -> tuple[int, bool]:
    """One batch in one transaction. Returns (delivered count, whether to go on)."""
    # The signing key must exist before the transaction: created inside it, it would stay invisible
    # (and its creation lock held) to the provider's JWKS fetch for as long as the call lasts.
    current_signing_key()
    with transaction.atomic():
        provider = Provider.objects.get(id=provider_id)
        if not provider.accepts_deliveries:
            return 0, False
        rows = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(
                provider_id=provider_id,
                kind=kind,
                state=OutboxMessage.State.PENDING,
                next_attempt_at__lte=timezone.now(),
            )
            .order_by("id")[: settings.PROVIDER_BATCH_SIZE]
        )
        if not rows:
            return 0, False
        rows = _drop_answered(rows)
        if not rows:
            return 0, True
        client = ProviderClient(provider)
        try:
            if kind == OutboxMessage.Kind.ORDER:
                client.submit_orders(str(uuid.uuid4()), [row.payload for row in rows])
            elif kind == OutboxMessage.Kind.PAUSE:
                client.submit_pauses([row.payload for row in rows])
            else:
                client.submit_memberships([row.payload for row in rows])
        except ProviderCallFailed as exc:
            _record_failure(provider, rows, exc)
            return 0, False
        _record_success(provider, rows)
        return len(rows), len(rows) == settings.PROVIDER_BATCH_SIZE


def _drop_answered(rows: list[OutboxMessage]) -> list[OutboxMessage]:
    """Orders already final were evidently received (the provider answered for them): no need to resend.

    This happens when a worker died after the provider took the batch but before the rows were marked.
    """
    order_uuids = [row.order_uuid for row in rows if row.kind == OutboxMessage.Kind.ORDER]
    answered = set(
        Order.objects.filter(uuid__in=order_uuids, state__in=FINAL_ORDER_STATES).values_list("uuid", flat=True)
    )
    if answered:
        OutboxMessage.objects.filter(id__in=[r.id for r in rows if r.order_uuid in answered]).update(
            state=OutboxMessage.State.DELIVERED, delivered_at=timezone.now()
        )
    return [row for row in rows if row.order_uuid not in answered]


def _record_success(provider: Provider, rows: list[OutboxMessage]) -> None:
    now = timezone.now()
    OutboxMessage.objects.filter(id__in=[row.id for row in rows]).update(
        state=OutboxMessage.State.DELIVERED, delivered_at=now, attempts=F("attempts") + 1, last_error=""
    )
    provider_record_success(provider_id=provider.id, field="last_delivery_at")
    logger.info("delivered %d message(s) to %s", len(rows), provider.slug)


def _record_failure(provider: Provider, rows: list[OutboxMessage], exc: ProviderCallFailed) -> None:
    """Retry later with backoff; a rejected batch, or one out of attempts, errs its orders."""
    logger.warning("delivery to %s failed: %s", provider.slug, exc.message)
    now = timezone.now()
    for row in rows:
        row.attempts += 1
        row.last_error = exc.message[:2000]
        if exc.permanent or row.attempts >= settings.PROVIDER_MAX_ATTEMPTS:
            row.state = OutboxMessage.State.FAILED
            if row.kind == OutboxMessage.Kind.ORDER:
                reason = (
                    exc.message
                    if exc.permanent
                    else f"Delivery to provider {provider.slug} failed after {row.attempts} attempts: {exc.message}"
                )
                _err_order(row.order_uuid, reason)
        else:
            row.next_attempt_at = now + timedelta(seconds=retry_delay(row.attempts))
        row.save(update_fields=["attempts", "last_error", "state", "next_attempt_at"])
    if not exc.permanent:
        provider_record_failure(provider_id=provider.id, error=exc.message)


def _err_order(order_uuid, message: str) -> None:
    order = Order.objects.filter(uuid=order_uuid).first()
    if order is None or order.state not in OPEN_ORDER_STATES:
        return
    marketplace.order_set_state_erred(order=order, actor=None, error_message=message)


def outbox_requeue_order(*, order) -> bool:
    """Send an executing order again (the provider said it never got it). False if it is not ours."""
    updated = OutboxMessage.objects.filter(kind=OutboxMessage.Kind.ORDER, order_uuid=order.uuid).update(
        state=OutboxMessage.State.PENDING, next_attempt_at=timezone.now()
    )
    return bool(updated)
