"""From events to notification rows: who is told what, decided once when the event is handed on.

`notifications_from_events` is an event consumer: it runs inside the dispatcher's transaction, so
its rows commit together with the event's "dispatched" mark (an event is never half handed on).

Who gets what:

| event | recipients | kind |
|---|---|---|
| marketplace_order_created (order still pending-consumer) | the project's managers, the customer's owners | approvals |
| marketplace_order_approved (order still pending-provider) | the offering organisation's owners | approvals |
| marketplace_order_completed / _failed / _rejected | the order's creator | order_outcomes |
| role_granted / role_revoked / role_expired | the person whose role it is | membership |
| project_ending, project_ended, marketplace_resource_ending, _terminate_succeeded | project managers | ending |
| policy_fired with `notify` among its actions | project managers (project policy), the owners | usage |
| any of the above | staff who turned `staff_copy` on | staff_copy |

An order that no longer waits when its event is handed on (approved meanwhile, or approved in the
same transaction because its placer may approve it) asks nobody. People are told only about what
someone else did: the actor is never a recipient, except of approval requests (the consumer's
approver may also own the provider). A person turns kinds off in their settings; that is looked at
here, so a mail already queued still goes. People without an address or inactive are skipped.
"""

from __future__ import annotations

import logging

from common.wakeups import wake_after_commit
from events.models import Event
from federation.models import User
from federation.notification_kinds import wants

from .. import messages
from ..models import MailNotification
from ..selectors import (
    HANDLED,
    MEMBERSHIP,
    ORDER_OUTCOMES,
    ORDER_WAITING,
    POLICY_FIRED,
    PROJECT_ENDING,
    Audience,
    notifies,
    reachable,
)

logger = logging.getLogger(__name__)

SEND_WAKE_KEY = "notifications:send-wake"


def _addressed(event: Event, audience: Audience) -> tuple[messages.Notice, list[User]] | None:
    """The notice an event makes and who it is for (before preferences), or None."""
    kind = event.event_type
    if kind in ORDER_WAITING or kind in ORDER_OUTCOMES:
        order = audience.orders.get(event.order_uuid)
        if order is None:
            return None
        if kind in ORDER_WAITING:
            if order.state != ORDER_WAITING[kind]:
                return None
            return messages.order_waiting(event, order), audience.approvers(order)
        people = [order.created_by] if order.created_by_id else []
        return messages.order_outcome(event, order), people
    if kind in MEMBERSHIP:
        person = audience.person_of(event)
        return messages.membership(event), [person] if person else []
    if kind in POLICY_FIRED:
        return (messages.policy_fired(event), audience.policy_recipients(event)) if notifies(event) else None
    managers = audience.project_managers(audience.project_of(event))
    if kind in PROJECT_ENDING:
        return messages.project_ending(event), managers
    return messages.resource_ending(event), managers


def _row(user: User, event: Event, notice: messages.Notice) -> MailNotification:
    return MailNotification(
        user=user,
        event_uuid=event.uuid,
        event_type=event.event_type,
        kind=notice.kind,
        subject=notice.subject,
        body=notice.body,
        url=notice.url,
        created=event.created,
    )


def notifications_from_events(events: list[Event]) -> int:
    """Write the notification rows of a batch of events (one per recipient and event); returns how many."""
    events = [event for event in events if event.event_type in HANDLED]
    if not events:
        return 0
    audience = Audience.load(events)
    rows: list[MailNotification] = []
    for event in events:
        try:
            addressed = _addressed(event, audience)
        except Exception:  # one event that cannot be told must not hold up the events after it
            logger.exception("no notification for event %s (%s)", event.uuid, event.event_type)
            continue
        if addressed is None:
            continue
        notice, people = addressed
        if notice.kind != "approvals":
            people = [p for p in people if p.uuid != event.actor_uuid]
        people = [p for p in people if reachable(p)]
        told = [p for p in people if wants(p, notice.kind)]
        rows.extend(_row(person, event, notice) for person in told)
        told_ids = {p.id for p in told}
        copy = None
        for member in audience.staff_copies:
            if member.id in told_ids or member.uuid == event.actor_uuid:
                continue
            copy = copy or messages.staff_copy(notice, [p.username for p in told])
            rows.append(_row(member, event, copy))
    if not rows:
        return 0
    MailNotification.objects.bulk_create(rows, ignore_conflicts=True)
    from ..tasks import send_due

    wake_after_commit(send_due, key=SEND_WAKE_KEY)
    return len(rows)
