"""Thin Celery tasks: load by id, call a service. Each is safe to run twice.

Deliveries and pulls never share worker processes: the pulls (manifest, usage, verify, sweep) go
to the `pulls` queue (CELERY_TASK_ROUTES), served by a worker of its own, so a provider that hangs
can hold up pulls, never a delivery to another provider. Beat's pull tasks only fan out one task
per provider; each of those is bounded by PROVIDER_TIMEOUT per call and PROVIDER_PULL_TIME_LIMIT in
all, and with a shared cache a provider has at most one pull of each kind queued or running.
"""

from celery import shared_task
from django.conf import settings
from django.core.cache import cache

from common.wakeups import wake_done

from . import services
from .models import OutboxMessage, Provider

PULL_LIMITS = {
    "soft_time_limit": settings.PROVIDER_PULL_TIME_LIMIT,
    "time_limit": settings.PROVIDER_PULL_TIME_LIMIT + 30,
}
DELIVERY_LIMITS = {
    "soft_time_limit": settings.PROVIDER_DELIVERY_TIME_LIMIT,
    "time_limit": settings.PROVIDER_DELIVERY_TIME_LIMIT + 30,
}


@shared_task(name="providers.deliver_outbox", acks_late=True, **DELIVERY_LIMITS)
def deliver_outbox(provider_id: int) -> int:
    wake_done(services.wake_key(provider_id))
    delivered, retry_in = services.outbox_deliver(provider_id=provider_id)
    if retry_in is not None:
        deliver_outbox.apply_async((provider_id,), countdown=max(retry_in, 0.2))
    return delivered


@shared_task(name="providers.deliver_all_due")
def deliver_all_due() -> None:
    """Safety net: wake the relay for every provider with pending messages."""
    provider_ids = OutboxMessage.objects.filter(state=OutboxMessage.State.PENDING).values_list("provider_id", flat=True)
    for provider_id in set(provider_ids):
        deliver_outbox.delay(provider_id)


# --- pulls ------------------------------------------------------------------------------------


def _pull_key(kind: str, provider_id: int) -> str:
    return f"providers:pull:{kind}:{provider_id}"


def _fan_out(kind: str, task, providers) -> None:
    """One pull task per provider, unless (with a shared cache) one of this kind is still queued or running."""
    for provider_id in providers.values_list("id", flat=True):
        key = _pull_key(kind, provider_id)
        if settings.CACHE_URL and not cache.add(key, 1, timeout=settings.PROVIDER_PULL_TIME_LIMIT + 60):
            continue
        task.delay(provider_id)


def _pull(kind: str, provider_id: int, function, **filters):
    try:
        provider = Provider.objects.exclude(status=Provider.Status.DISABLED).filter(id=provider_id, **filters).first()
        return function(provider=provider) if provider else None
    finally:
        cache.delete(_pull_key(kind, provider_id))


def _enabled():
    return Provider.objects.exclude(status=Provider.Status.DISABLED)


@shared_task(name="providers.pull_manifest", **PULL_LIMITS)
def pull_manifest(provider_id: int) -> bool:
    answered = bool(_pull("manifest", provider_id, services.manifest_pull))
    if answered and OutboxMessage.objects.filter(provider_id=provider_id, state=OutboxMessage.State.PENDING).exists():
        services.wake_relay(provider_id)  # a provider that answered again takes deliveries again
    return answered


@shared_task(name="providers.pull_manifests")
def pull_manifests() -> None:
    _fan_out("manifest", pull_manifest, _enabled())


@shared_task(name="providers.pull_provider_usage", **PULL_LIMITS)
def pull_provider_usage(provider_id: int) -> int | None:
    return _pull("usage", provider_id, services.usage_pull)


@shared_task(name="providers.pull_usage")
def pull_usage() -> None:
    _fan_out("usage", pull_provider_usage, _enabled())


@shared_task(name="providers.verify_provider", **PULL_LIMITS)
def verify_provider(provider_id: int) -> None:
    _pull("verify", provider_id, services.provider_verify)


@shared_task(name="providers.verify")
def verify() -> None:
    _fan_out("verify", verify_provider, _enabled())


@shared_task(name="providers.sweep_provider_orders", **PULL_LIMITS)
def sweep_provider_orders(provider_id: int) -> int | None:
    return _pull("sweep", provider_id, services.orders_sweep_stuck, status=Provider.Status.ENABLED, available=True)


@shared_task(name="providers.sweep_stuck_orders")
def sweep_stuck_orders() -> None:
    _fan_out("sweep", sweep_provider_orders, Provider.objects.filter(status=Provider.Status.ENABLED, available=True))


@shared_task(name="providers.purge_seen_tokens")
def purge_seen_tokens() -> int:
    return services.seen_tokens_purge()
