"""Thin Celery tasks: load by id, call a service. Each is safe to run twice."""

from celery import shared_task
from django.core.cache import cache

from . import outbox, relay, signing, sync
from .models import OutboxMessage, Provider


@shared_task(name="providers.deliver_outbox", acks_late=True)
def deliver_outbox(provider_id: int) -> int:
    cache.delete(outbox.wake_key(provider_id))  # commits from now on wake a new run
    delivered, retry_in = relay.outbox_deliver(provider_id=provider_id)
    if retry_in is not None:
        deliver_outbox.apply_async((provider_id,), countdown=max(retry_in, 0.2))
    return delivered


@shared_task(name="providers.deliver_all_due")
def deliver_all_due() -> None:
    """Safety net: wake the relay for every provider with pending messages."""
    provider_ids = OutboxMessage.objects.filter(state=OutboxMessage.State.PENDING).values_list("provider_id", flat=True)
    for provider_id in set(provider_ids):
        deliver_outbox.delay(provider_id)


def _each_provider(function, **kwargs) -> None:
    for provider in Provider.objects.exclude(status=Provider.Status.DISABLED):
        function(provider=provider, **kwargs)


@shared_task(name="providers.pull_manifest")
def pull_manifest(provider_id: int) -> bool:
    provider = Provider.objects.filter(id=provider_id).first()
    return bool(provider) and sync.manifest_pull(provider=provider)


@shared_task(name="providers.pull_manifests")
def pull_manifests() -> None:
    _each_provider(sync.manifest_pull)
    # A provider that answered again takes deliveries again.
    deliver_all_due.delay()


@shared_task(name="providers.pull_usage")
def pull_usage() -> None:
    _each_provider(sync.usage_pull)


@shared_task(name="providers.verify")
def verify() -> None:
    _each_provider(sync.provider_verify)


@shared_task(name="providers.sweep_stuck_orders")
def sweep_stuck_orders() -> None:
    for provider in Provider.objects.filter(status=Provider.Status.ENABLED, available=True):
        sync.orders_sweep_stuck(provider=provider)


@shared_task(name="providers.purge_seen_tokens")
def purge_seen_tokens() -> int:
    return signing.seen_tokens_purge()
