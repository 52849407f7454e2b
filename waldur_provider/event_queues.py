"""Event mode for Waldur site agents: queue registration, the fan-out of events, and sending.

An agent registers its queue with the API token it runs with (`queue_register`); the token becomes
its RabbitMQ password. The events dispatcher hands every batch of new events to `messages_queue`,
which writes one `AgentMessage` per event and interested queue in the dispatcher's transaction (the
outbox); after that commit the same process publishes them (`messages_send`), and beat retries
whatever the broker did not confirm. Deleting the token an agent registered with (revoked, or
replaced at the next log-in) deletes its RabbitMQ user, so the token stops opening the stream too.

What is published, in Waldur's message shapes:
  * `order` — every state an order of the offering enters, unless the agent's own user moved it
    there: `{order_uuid, order_state}`;
  * `user_role` — a project role granted, revoked or expired where the offering has a live resource:
    `{user_uuid, user_username, project_uuid, project_name, role_name, granted}`.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from common.exceptions import Conflict, PermissionDenied, UpstreamUnavailable, ValidationFailed
from events.models import Event
from federation.models import AuthToken, User
from federation.models.tokens import hash_token_key
from federation.permissions import may_write
from marketplace.models import Offering, Resource, ResourceState
from marketplace.permissions import can_review_as_provider

from . import broker
from .models import OBJECT_TYPES, AgentMessage, AgentQueue

logger = logging.getLogger(__name__)

ROLE_EVENTS = {"role_granted": True, "role_revoked": False, "role_expired": False}
ORDER_EVENT_PREFIX = "marketplace_order_"


def queue_register(*, actor: User, offering: Offering, object_types: list[str], token: str) -> tuple[AgentQueue, bool]:
    """Make (or refresh) `actor`'s queue for `offering`; returns it and whether it is new."""
    if not broker.enabled():
        raise Conflict(
            "Event mode is off on this server (AGENT_EVENTS_BROKER_API and AGENT_EVENTS_BROKER_URL are not set): "
            "run the agent's polling modes instead."
        )
    if not (may_write(actor) and can_review_as_provider(actor, offering)):
        raise PermissionDenied("Only the owners of the provider organisation may register an event queue.")
    unknown = sorted(set(object_types) - set(OBJECT_TYPES))
    if unknown:
        raise ValidationFailed(f"Unknown object types: {', '.join(unknown)}.", field="object_types")
    if not token:
        raise ValidationFailed(
            "Register with an API token (Authorization: Token …): the token is the queue's password.",
            field="non_field_errors",
        )
    probe = AgentQueue(user=actor, offering=offering)
    try:
        broker.queue_provision(username=probe.rmq_username, password=token, vhost=probe.vhost, queue=probe.queue_name)
    except broker.BrokerError as exc:
        raise UpstreamUnavailable(f"The message broker is not available: {exc}") from exc
    token_hash = hash_token_key(token)
    with transaction.atomic():
        queue, created = AgentQueue.objects.update_or_create(
            user=actor,
            offering=offering,
            defaults={"object_types": sorted(set(object_types)), "token_hash": token_hash},
        )
        AgentQueue.objects.filter(user=actor).exclude(id=queue.id).update(token_hash=token_hash)
    return queue, created


def tokens_sweep() -> int:
    """Agents whose registration token no longer authenticates (revoked, expired, replaced at the
    next log-in, password changed, user deactivated) lose their RabbitMQ user. Returns how many."""
    queues = list(AgentQueue.objects.exclude(token_hash="").select_related("user").order_by("user_id"))
    hashes = {queue.token_hash for queue in queues}
    tokens = {t.key_hash: t for t in AuthToken.objects.filter(key_hash__in=hashes).select_related("user")}
    now = timezone.now()

    def usable(token) -> bool:
        return (
            token is not None
            and token.user.is_active
            and (token.expires_at is None or token.expires_at > now)
            and token.matches_password()
        )

    stale = [queue for queue in queues if not usable(tokens.get(queue.token_hash))]
    removed = 0
    for name, queues in _by_user(stale).items():
        try:
            broker.user_remove(username=name)
        except broker.BrokerError:
            logger.exception("could not delete the RabbitMQ user %s of a token that no longer authenticates", name)
            continue
        AgentQueue.objects.filter(id__in=[q.id for q in queues]).update(token_hash="")
        removed += 1
    return removed


def _by_user(queues: list[AgentQueue]) -> dict[str, list[AgentQueue]]:
    grouped: dict[str, list[AgentQueue]] = {}
    for queue in queues:
        grouped.setdefault(queue.rmq_username, []).append(queue)
    return grouped


def _receives(queue: AgentQueue, object_type: str) -> bool:
    return not queue.object_types or object_type in queue.object_types


def _order_messages(events: list[Event], queues: list[AgentQueue]) -> list[AgentMessage]:
    by_offering: dict = {}
    for queue in queues:
        if _receives(queue, "order"):
            by_offering.setdefault(queue.offering.uuid, []).append(queue)
    rows = []
    for event in events:
        if not event.event_type.startswith(ORDER_EVENT_PREFIX) or event.order_uuid is None:
            continue
        body = {"object_type": "order", "order_uuid": event.order_uuid.hex, "order_state": event.context.get("state")}
        # An agent is not told of what it did itself (approving, completing): it knows, and each message
        # costs it a round of API calls before it can read the next one.
        targets = [q for q in by_offering.get(event.offering_uuid, ()) if q.user.uuid != event.actor_uuid]
        rows += [AgentMessage(queue=queue, event_uuid=event.uuid, body=body) for queue in targets]
    return rows


def _role_messages(events: list[Event], queues: list[AgentQueue]) -> list[AgentMessage]:
    roles = [e for e in events if e.event_type in ROLE_EVENTS and e.scope_type == "project"]
    queues = [queue for queue in queues if _receives(queue, "user_role")]
    if not roles or not queues:
        return []
    live = (
        Resource.objects.filter(
            project__uuid__in={e.project_uuid for e in roles}, offering__in=[q.offering_id for q in queues]
        )
        .exclude(state=ResourceState.TERMINATED)
        .values_list("project__uuid", "offering_id")
        .distinct()
    )
    offerings_of: dict = {}
    for project_uuid, offering_id in live:
        offerings_of.setdefault(project_uuid, set()).add(offering_id)
    rows = []
    for event in roles:
        body = {
            "object_type": "user_role",
            "user_uuid": (event.context.get("user_uuid") or "").replace("-", ""),
            "user_username": event.context.get("username", ""),
            "project_uuid": event.project_uuid.hex,
            "project_name": event.context.get("project_name", ""),
            "role_name": event.context.get("role", ""),
            "granted": ROLE_EVENTS[event.event_type],
        }
        targets = offerings_of.get(event.project_uuid, set())
        rows += [AgentMessage(queue=q, event_uuid=event.uuid, body=body) for q in queues if q.offering_id in targets]
    return rows


def messages_queue(events: list[Event]) -> int:
    """Events consumer: write the messages of `events` for every queue that wants them; send after commit."""
    offerings = {e.offering_uuid for e in events if e.event_type.startswith(ORDER_EVENT_PREFIX)}
    projects = {e.project_uuid for e in events if e.event_type in ROLE_EVENTS and e.scope_type == "project"}
    if not offerings and not projects:
        return 0
    queues = list(
        AgentQueue.objects.filter(Q(offering__uuid__in=offerings) | Q(offering__resources__project__uuid__in=projects))
        .select_related("offering", "user")
        .distinct()
    )
    if not queues:
        return 0
    rows = _order_messages(events, queues) + _role_messages(events, queues)
    AgentMessage.objects.bulk_create(rows, ignore_conflicts=True)
    if rows:
        transaction.on_commit(messages_send)
    return len(rows)


def messages_send(*, batch_size: int | None = None) -> int:
    """Publish unsent messages, oldest first, one locked batch at a time; returns how many were sent.
    A broker failure stops the run (the messages stay, with the error, for the next run)."""
    if not broker.enabled():
        return 0
    batch_size = batch_size or settings.AGENT_EVENTS_BATCH
    sent = 0
    while True:
        with transaction.atomic():
            messages = list(
                AgentMessage.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(sent_at__isnull=True)
                .select_related("queue__user", "queue__offering")
                .order_by("id")[:batch_size]
            )
            if not messages:
                return sent
            by_vhost: dict[str, list[AgentMessage]] = {}
            for message in messages:
                by_vhost.setdefault(message.queue.vhost, []).append(message)
            done = []
            for vhost, group in by_vhost.items():
                try:
                    broker.publish(vhost, [(m.queue.queue_name, m.body) for m in group])
                except broker.BrokerError as exc:
                    AgentMessage.objects.filter(id__in=[m.id for m in group]).update(
                        attempts=F("attempts") + 1, last_error=str(exc)[:2000]
                    )
                    logger.warning("agent messages not sent: %s", exc)
                    AgentMessage.objects.filter(id__in=done).update(sent_at=timezone.now(), last_error="")
                    return sent + len(done)
                done += [m.id for m in group]
            AgentMessage.objects.filter(id__in=done).update(sent_at=timezone.now(), last_error="")
        sent += len(done)
        if len(messages) < batch_size:
            return sent


def messages_prune(*, now=None) -> int:
    """Delete sent messages older than AGENT_EVENTS_RETENTION_DAYS. Returns how many."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.AGENT_EVENTS_RETENTION_DAYS)
    deleted, _ = AgentMessage.objects.filter(sent_at__lt=cutoff).delete()
    return deleted
