"""What beat pulls from providers: manifests, usage, the `verify` reconciliation, stuck orders."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from marketplace.models import FINAL_ORDER_STATES, Order, OrderState, Resource, ResourceState
from protocol.messages import Manifest, OrderStatus, ProtocolError, UsageRecord, VerifyResult, parse_each

from ..client import ProviderCallFailed, ProviderClient
from ..models import Provider
from .health import provider_event, provider_record_failure, provider_record_success
from .inbound import order_updates_apply, usage_records_import
from .relay import outbox_requeue_order

logger = logging.getLogger(__name__)


def _failed(provider: Provider, what: str, exc: Exception) -> None:
    message = f"{what}: {getattr(exc, 'message', None) or exc}"
    logger.warning("%s %s", provider.slug, message)
    provider_record_failure(provider_id=provider.id, error=message)


def manifest_pull(*, provider: Provider) -> bool:
    """Fetch and store the provider's manifest; a manifest unlike the one stored is recorded as an event."""
    try:
        manifest = ProviderClient(provider).manifest()
    except ProviderCallFailed as exc:
        _failed(provider, "manifest pull failed", exc)
        return False
    try:
        manifest = Manifest.from_dict(manifest).to_dict()
    except ProtocolError as exc:
        _failed(provider, "manifest pull failed", ValueError(f"the manifest is invalid: {exc}"))
        return False
    with transaction.atomic():
        Provider.objects.filter(id=provider.id).update(manifest=manifest, manifest_fetched_at=timezone.now())
        if manifest != provider.manifest:
            changed = sorted(
                key for key in {*manifest, *provider.manifest} if manifest.get(key) != provider.manifest.get(key)
            )
            provider_event("provider_manifest_changed", provider_id=provider.id, changed=changed)
            provider.manifest = manifest
    provider_record_success(provider_id=provider.id, field="last_manifest_pull_at")
    return True


def usage_pull(*, provider: Provider, max_pages: int = 50) -> int:
    """Fetch usage records after the stored cursor, page by page; the cursor moves only after import.

    A record that is not valid, or cannot be stored, is logged and passed over: reading it again
    would not change it, and it must not keep the cursor from moving.
    """
    imported = 0
    client = ProviderClient(provider)
    for _ in range(max_pages):
        try:
            data = client.usage(after=provider.usage_cursor)
            records = parse_each(data, "records", UsageRecord.from_dict)
            next_cursor = data.get("next_cursor")
            if not isinstance(next_cursor, int) or isinstance(next_cursor, bool) or next_cursor < 0:
                raise ProtocolError("next_cursor", "must be an integer >= 0")
        except (ProviderCallFailed, ProtocolError) as exc:
            _failed(provider, "usage pull failed", exc)
            return imported
        results = []
        if records:
            changed, results = usage_records_import(provider=provider, records=records, raw=data["records"])
            imported += changed
        for result in results:
            if not result["accepted"]:
                logger.warning("%s usage record %s passed over: %s", provider.slug, result["cursor"], result["detail"])
        if any(result["retry"] for result in results):
            break  # read the page again at the next pull
        if next_cursor <= provider.usage_cursor or not records:
            break
        provider.usage_cursor = next_cursor
        Provider.objects.filter(id=provider.id).update(usage_cursor=next_cursor)
    provider_record_success(provider_id=provider.id, field="last_usage_pull_at")
    return imported


def provider_verify(*, provider: Provider) -> dict | None:
    """Compare what we believe the provider runs with what it says it runs; the result is stored."""
    resources = Resource.objects.filter(offering__provider_link__provider=provider).exclude(
        state__in=[ResourceState.TERMINATED, ResourceState.CREATING]
    )
    believed = [
        {"resource_uuid": str(uuid), "backend_id": bid} for uuid, bid in resources.values_list("uuid", "backend_id")
    ]
    try:
        result = VerifyResult.from_dict(ProviderClient(provider).verify(believed))
    except (ProviderCallFailed, ProtocolError) as exc:
        _failed(provider, "verify failed", exc)
        return None
    report = {
        "checked_at": timezone.now().isoformat(),
        "resources": len(believed),
        "unknown_to_provider": list(result.unknown_to_provider),
        "unknown_to_orchestrator": [ref.to_dict() for ref in result.unknown_to_orchestrator],
    }
    Provider.objects.filter(id=provider.id).update(last_verify=report)
    if report["unknown_to_provider"] or report["unknown_to_orchestrator"]:
        logger.warning("%s verify found differences: %s", provider.slug, report)
    return report


def orders_sweep_stuck(*, provider: Provider) -> int:
    """Ask the provider about orders executing for longer than PROVIDER_STUCK_AFTER; apply what it says.

    An order the provider never received is queued again; the provider deduplicates by order uuid.
    """
    cutoff = timezone.now() - timedelta(seconds=settings.PROVIDER_STUCK_AFTER)
    stuck = Order.objects.filter(
        state=OrderState.EXECUTING, modified__lt=cutoff, offering__provider_link__provider=provider
    )
    client = ProviderClient(provider)
    settled = 0
    for order in stuck[:200]:
        try:
            answer = client.order_state(str(order.uuid))
        except ProviderCallFailed as exc:
            _failed(provider, "order state query failed", exc)
            break
        if answer is None:
            outbox_requeue_order(order=order)
            continue
        try:
            status = OrderStatus.from_dict(answer)
        except ProtocolError:
            continue
        if status.state in FINAL_ORDER_STATES:  # done or erred: the provider has finished with it
            result = order_updates_apply(provider=provider, updates=[status])[0]
            settled += int(result["accepted"])
    return settled
