"""Sending deliveries: claimed in small batches, posted signed, retried with backoff.

A run claims due deliveries with `SELECT … FOR UPDATE SKIP LOCKED` and, in the same short
transaction, moves their `next_attempt_at` past a lease (long enough to send the whole batch); then
it commits and sends, holding no lock during any HTTP call. Each outcome is written in its own short
transaction, guarded by the attempt count the run claimed, so a result is recorded once. A worker
that dies mid-batch leaves its deliveries pending: they are due again when the lease runs out, and
are sent again. The receiver de-duplicates by `webhook-id`, which is the event's uuid on every attempt.

A 2xx answer delivers and resets the hook's failure count. Anything else counts a failed attempt:
the delivery is retried after `backoff_delay` (WEBHOOK_RETRY_BASE/CAP) until WEBHOOK_MAX_ATTEMPTS,
then fails; the hook is disabled after WEBHOOK_DISABLE_AFTER failed attempts in a row, at once when
the endpoint answers 410 Gone or its host now resolves to an internal address.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import timedelta

import requests
import urllib3
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from common.backoff import backoff_delay

from ..destinations import DestinationRefused, guarded_session
from ..models import Webhook, WebhookDelivery
from ..signing import signed_headers
from .hooks import webhook_disable

logger = logging.getLogger(__name__)

SEND_WAKE_KEY = "webhooks:deliver-wake"
RUN_BUDGET = 60.0  # seconds a run goes on claiming batches; beat starts the next one
ERROR_SNIPPET = 300  # characters of a failed answer's body kept in last_error
# What came of an attempt (`_record`); STALE: another run recorded this attempt first.
DELIVERED, FAILED, HOOK_DISABLED, STALE = "delivered", "failed", "hook disabled", "stale"


@dataclass(frozen=True)
class Outcome:
    status_code: int | None = None
    error: str = ""
    permanent: bool = False

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _lease(batch_size: int) -> timedelta:
    """How long a run holds its claim: time to send the whole batch, each call at its longest."""
    return timedelta(seconds=batch_size * (2 * settings.WEBHOOK_TIMEOUT + 1) + 30)


def _claim(batch_size: int) -> list[WebhookDelivery]:
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(state=WebhookDelivery.State.PENDING, next_attempt_at__lte=now, hook__is_active=True)
            .select_related("hook")
            .order_by("next_attempt_at", "id")[:batch_size]
        )
        if rows:
            WebhookDelivery.objects.filter(id__in=[row.id for row in rows]).update(
                next_attempt_at=now + _lease(batch_size)
            )
    return rows


def deliveries_send_due(*, batch_size: int | None = None) -> int:
    """Send every due delivery (for at most RUN_BUDGET seconds). Returns how many were delivered."""
    batch_size = batch_size or settings.WEBHOOK_BATCH_SIZE
    deadline = time.monotonic() + RUN_BUDGET
    delivered = 0
    disabled: set[int] = set()  # hooks disabled during this run: the rest of their deliveries failed with them
    with guarded_session() as session:
        while True:
            claimed = _claim(batch_size)
            for delivery in claimed:
                if delivery.hook_id in disabled:
                    continue
                result = _record(delivery, _post(session, delivery))
                delivered += result == DELIVERED
                if result == HOOK_DISABLED:
                    disabled.add(delivery.hook_id)
            if len(claimed) < batch_size or time.monotonic() > deadline:
                return delivered


def _clean(text: str) -> str:
    return text.replace("\x00", "")


def _post(session: requests.Session, delivery: WebhookDelivery) -> Outcome:
    hook = delivery.hook
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    headers = signed_headers(hook.secret, msg_id=str(delivery.event_uuid), body=body)
    timeout = settings.WEBHOOK_TIMEOUT
    try:
        response = session.post(
            hook.destination_url,
            data=body,
            headers=headers,
            timeout=(timeout, timeout),
            allow_redirects=False,
            stream=True,
        )
    except DestinationRefused as exc:
        return Outcome(error=str(exc), permanent=True)
    except requests.RequestException as exc:
        return Outcome(error=_clean(f"{type(exc).__name__}: {exc}")[:2000])
    with response:
        if 200 <= response.status_code < 300:
            return Outcome(status_code=response.status_code)
        try:
            snippet = response.raw.read(ERROR_SNIPPET, decode_content=True).decode(errors="replace")
        except (OSError, urllib3.exceptions.HTTPError):  # a broken body still leaves the status to report
            snippet = ""
    error = _clean(f"HTTP {response.status_code} {response.reason}: {snippet}".strip().rstrip(":"))
    return Outcome(status_code=response.status_code, error=error, permanent=response.status_code == 410)


def _record(delivery: WebhookDelivery, outcome: Outcome) -> str:
    """Write the attempt's outcome, once (guarded by the attempt count claimed). Returns what came of it."""
    now = timezone.now()
    attempts = delivery.attempts + 1
    claimed = WebhookDelivery.objects.filter(
        id=delivery.id, state=WebhookDelivery.State.PENDING, attempts=delivery.attempts
    )
    if outcome.delivered:
        with transaction.atomic():
            if claimed.update(
                state=WebhookDelivery.State.DELIVERED,
                delivered_at=now,
                attempts=attempts,
                last_status_code=outcome.status_code,
                last_error="",
            ):
                Webhook.objects.filter(id=delivery.hook_id, consecutive_failures__gt=0).update(consecutive_failures=0)
                return DELIVERED
        return STALE
    changes = {"attempts": attempts, "last_error": outcome.error, "last_status_code": outcome.status_code}
    if attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        changes["state"] = WebhookDelivery.State.FAILED
    else:
        changes["next_attempt_at"] = now + timedelta(
            seconds=backoff_delay(attempts, base=settings.WEBHOOK_RETRY_BASE, cap=settings.WEBHOOK_RETRY_CAP)
        )
    logger.info("webhook delivery %s to hook %s failed: %s", delivery.event_uuid, delivery.hook_id, outcome.error)
    with transaction.atomic():
        if not claimed.update(**changes):
            return STALE
        return HOOK_DISABLED if _count_failure(delivery.hook_id, outcome) else FAILED


def _count_failure(hook_id: int, outcome: Outcome) -> bool:
    """Count a failed attempt against the hook; disable it past the bound. Returns whether it was disabled."""
    hook = Webhook.objects.select_for_update().filter(id=hook_id).first()
    if hook is None:
        return False
    failures = hook.consecutive_failures + 1
    Webhook.objects.filter(id=hook_id).update(consecutive_failures=failures)
    if outcome.permanent:
        reason = outcome.error if outcome.status_code is None else f"The endpoint answered {outcome.error}"
        return webhook_disable(hook_id=hook_id, reason=reason)
    if failures >= settings.WEBHOOK_DISABLE_AFTER:
        reason = f"{failures} delivery attempts failed in a row; the last: {outcome.error}"
        return webhook_disable(hook_id=hook_id, reason=reason)
    return False


def deliveries_prune(*, now=None) -> int:
    """Delete delivered and failed deliveries older than WEBHOOK_DELIVERY_RETENTION_DAYS. Returns how many."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.WEBHOOK_DELIVERY_RETENTION_DAYS)
    deleted, _ = (
        WebhookDelivery.objects.exclude(state=WebhookDelivery.State.PENDING).filter(created__lt=cutoff).delete()
    )
    return deleted
