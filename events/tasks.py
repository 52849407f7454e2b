"""Thin tasks: hand new events on (woken after commit, and by beat), prune old ones (beat)."""

from celery import shared_task

from common.wakeups import wake_done

from . import services


@shared_task(name="events.dispatch", acks_late=True)
def dispatch_events() -> int:
    wake_done(services.DISPATCH_WAKE_KEY)
    return services.events_dispatch()


@shared_task(name="events.prune")
def prune_events() -> int:
    return services.events_prune()
