"""Writing events, handing them on, and pruning them.

`event_record` writes an event in the caller's transaction: a rolled-back change leaves no event.
Callers that write many changes together (`StateWriteBatch`) build events with `event_build` and
insert them in one statement with `events_insert`.

Handing on: events are their own outbox. An event is written with `dispatched_at` empty; after
commit, the dispatcher is woken, locks undispatched events (`SKIP LOCKED`), gives them to every
registered consumer (mail notifications, webhooks) inside its transaction, and marks them
dispatched. A consumer writes its own delivery rows there, so an event is handed on exactly once,
and a crash before the commit hands it on again later, never half.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from common.wakeups import wake_after_commit

from .models import Event
from .types import EVENT_TYPES

logger = logging.getLogger(__name__)

DISPATCH_WAKE_KEY = "events:dispatch-wake"
CONCERNS = ("customer", "project", "resource", "order", "offering", "provider")

EventConsumer = Callable[[list[Event]], None]
_consumers: list[EventConsumer] = []


def register_consumer(consumer: EventConsumer) -> None:
    """`consumer(events)` runs inside the dispatcher's transaction for each batch of new events."""
    if consumer not in _consumers:
        _consumers.append(consumer)


def event_build(
    event_type: str,
    *,
    scope: tuple[str, object],
    actor=None,
    message: str = "",
    context: dict | None = None,
    **concerns,
) -> Event:
    """An unsaved event. `scope` is (type, uuid) of the object that decides visibility; `concerns`
    name the other objects by uuid (`customer=`, `project=`, `resource=`, `order=`, `offering=`,
    `provider=`), and the scope object is always among them."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"Unknown event type {event_type!r}; add it to events/types.py.")
    scope_type, scope_uuid = scope
    unknown = set(concerns) - set(CONCERNS)
    if unknown:
        raise ValueError(f"Unknown concerns: {sorted(unknown)}")
    concerns[scope_type] = scope_uuid
    return Event(
        event_type=event_type,
        message=message,
        actor_uuid=getattr(actor, "uuid", None),
        actor_username=getattr(actor, "username", "") or "",
        scope_type=scope_type,
        scope_uuid=scope_uuid,
        context=context or {},
        **{f"{name}_uuid": value for name, value in concerns.items() if value is not None},
    )


def events_insert(events: Iterable[Event]) -> None:
    """Insert built events in one statement, in the caller's transaction; wake the dispatcher after commit."""
    events = list(events)
    if not events:
        return
    Event.objects.bulk_create(events)
    wake_dispatcher()


def event_record(event_type: str, **kwargs) -> Event:
    """Write one event in the caller's transaction (see `event_build` for the arguments)."""
    event = event_build(event_type, **kwargs)
    event.save()
    wake_dispatcher()
    return event


def wake_dispatcher() -> None:
    if not _consumers:
        return
    from .tasks import dispatch_events

    wake_after_commit(dispatch_events, key=DISPATCH_WAKE_KEY)


def events_dispatch(*, batch_size: int | None = None) -> int:
    """Hand new events to the consumers, one locked batch per transaction. Returns how many."""
    batch_size = batch_size or settings.EVENT_DISPATCH_BATCH
    handed = 0
    while True:
        with transaction.atomic():
            events = list(
                Event.objects.select_for_update(skip_locked=True)
                .filter(dispatched_at__isnull=True)
                .order_by("id")[:batch_size]
            )
            if not events:
                return handed
            for consumer in _consumers:
                consumer(events)
            Event.objects.filter(id__in=[event.id for event in events]).update(dispatched_at=timezone.now())
        handed += len(events)
        if len(events) < batch_size:
            return handed


def events_prune(*, now=None) -> int:
    """Delete events older than EVENT_RETENTION_DAYS. Returns how many."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.EVENT_RETENTION_DAYS)
    deleted, _ = Event.objects.filter(created__lt=cutoff).delete()
    if deleted:
        logger.info("pruned %d event(s) older than %s", deleted, cutoff.isoformat())
    return deleted
