"""Queuing deliveries: the event consumer the webhooks app registers with the dispatcher.

For each batch of new events, in the dispatcher's transaction: the active hooks whose scope one of
the events concerns (one query), matched by type in memory; then, per hook creator, whether they
may still subscribe to the hook's object and may see each event (a few queries per distinct hook
and creator, none per event); then one insert of the delivery rows. The unique (hook, event) key
makes a batch handed on twice queue nothing twice. The sender is woken after commit.
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Q
from django.utils import timezone

from common.querysets import reads_everything
from common.wakeups import wake_after_commit
from events.models import Event
from events.services import CONCERNS

from ..models import Webhook, WebhookDelivery
from ..permissions import may_subscribe
from .delivery import SEND_WAKE_KEY


def _iso(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _text(value) -> str | None:
    return None if value is None else str(value)


def event_payload(event: Event) -> dict:
    """The body of a delivery, in the Standard Webhooks shape: {"type", "timestamp", "data"}."""
    data = {
        "uuid": str(event.uuid),
        "event_type": event.event_type,
        "created": _iso(event.created),
        "message": event.message,
        "actor_uuid": _text(event.actor_uuid),
        "actor_username": event.actor_username,
        "scope_type": event.scope_type,
        "scope_uuid": _text(event.scope_uuid),
        **{f"{name}_uuid": _text(getattr(event, f"{name}_uuid")) for name in CONCERNS},
        "context": event.context,
    }
    return {"type": event.event_type, "timestamp": _iso(event.created), "data": data}


def _candidate_hooks(events: list[Event]) -> list[Webhook]:
    """Active hooks following an object any of the events concerns, and those following everything."""
    concerned: dict[str, set] = defaultdict(set)
    for event in events:
        for name in CONCERNS:
            value = getattr(event, f"{name}_uuid")
            if value is not None:
                concerned[name].add(value)
    scope = Q(scope_type="")
    for name, uuids in concerned.items():
        scope |= Q(scope_type=name, scope_uuid__in=uuids)
    return list(Webhook.objects.filter(scope, is_active=True).select_related("created_by"))


def _matches(hooks: list[Webhook], events: list[Event]) -> list[tuple[Webhook, Event]]:
    everything = [hook for hook in hooks if not hook.scope_type]
    by_scope: dict[tuple, list[Webhook]] = defaultdict(list)
    for hook in hooks:
        if hook.scope_type:
            by_scope[(hook.scope_type, hook.scope_uuid)].append(hook)
    pairs = []
    for event in events:
        following = list(everything)
        for name in CONCERNS:
            following += by_scope.get((name, getattr(event, f"{name}_uuid")), [])
        pairs += [(hook, event) for hook in following if not hook.event_types or event.event_type in hook.event_types]
    return pairs


def _still_allowed(pairs: list[tuple[Webhook, Event]]) -> list[tuple[Webhook, Event]]:
    """Pairs whose hook's creator may still subscribe to the hook's object and may see the event."""
    subscribed: dict[tuple, bool] = {}
    events_by_creator: dict[int, set[int]] = defaultdict(set)
    creators = {}
    for hook, event in pairs:
        key = (hook.created_by_id, hook.scope_type, hook.scope_uuid)
        if key not in subscribed:
            subscribed[key] = may_subscribe(hook.created_by, scope_type=hook.scope_type, scope_uuid=hook.scope_uuid)
        if subscribed[key] and not reads_everything(hook.created_by):
            events_by_creator[hook.created_by_id].add(event.id)
            creators[hook.created_by_id] = hook.created_by
    visible = {
        creator_id: set(Event.objects.visible_to(creators[creator_id]).filter(id__in=ids).values_list("id", flat=True))
        for creator_id, ids in events_by_creator.items()
    }
    return [
        (hook, event)
        for hook, event in pairs
        if subscribed[(hook.created_by_id, hook.scope_type, hook.scope_uuid)]
        and (hook.created_by_id not in visible or event.id in visible[hook.created_by_id])
    ]


def deliveries_queue(events: list[Event]) -> int:
    """Queue a delivery of each event to each hook that should receive it. Returns how many."""
    hooks = _candidate_hooks(events)
    if not hooks:
        return 0
    pairs = _still_allowed(_matches(hooks, events))
    if not pairs:
        return 0
    now = timezone.now()
    payloads = {}
    rows = []
    for hook, event in pairs:
        if event.id not in payloads:
            payloads[event.id] = event_payload(event)
        rows.append(
            WebhookDelivery(
                hook=hook,
                event_uuid=event.uuid,
                event_type=event.event_type,
                payload=payloads[event.id],
                next_attempt_at=now,
            )
        )
    WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    _wake_sender()
    return len(rows)


def _wake_sender() -> None:
    from ..tasks import deliver_due

    wake_after_commit(deliver_due, key=SEND_WAKE_KEY)
