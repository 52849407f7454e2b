"""What each event tells its recipients: a kind, a subject, a short body and a portal link.

A notice is rendered once per event (not per recipient): the mail around it greets the person.
Bodies come from `templates/notifications/items/`; links are absolute, built from FEDERATION_URL.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from events.models import Event
from federation.models.roles import ROLE_DESCRIPTIONS
from marketplace.models import Order, OrderState

SUBJECT_LENGTH = 300


@dataclass(frozen=True)
class Notice:
    kind: str
    subject: str
    body: str
    url: str


def portal_url(name: str = "portal-home", **kwargs) -> str:
    return settings.FEDERATION_URL.rstrip("/") + reverse(name, kwargs=kwargs or None)


def _render(template: str, **context) -> str:
    return render_to_string(f"notifications/items/{template}.txt", context).strip()


def one_line(text: str) -> str:
    """A subject is one header line: names with line breaks in them do not break it."""
    return " ".join(text.split())[:SUBJECT_LENGTH]


def _notice(kind: str, subject: str, template: str, url: str, **context) -> Notice:
    return Notice(kind=kind, subject=one_line(subject), body=_render(template, **context), url=url)


def _order_name(order: Order) -> str:
    name = order.resource.name if order.resource is not None else order.attributes.get("name", "")
    return f"{order.type.lower()} order for {name!r}" if name else f"{order.type.lower()} order"


def order_waiting(event: Event, order: Order) -> Notice:
    side = "consumer" if order.state == OrderState.PENDING_CONSUMER else "provider"
    as_whom = "as a manager of the project" if side == "consumer" else f"as the provider ({order.offering.name})"
    return _notice(
        "approvals",
        f"Approval needed: {_order_name(order)} in {order.project.name}",
        "order_waiting",
        portal_url("portal-order", uuid=order.uuid),
        order=order,
        side=side,
        as_whom=as_whom,
        placed_by=str(order.created_by) if order.created_by else "the system",
    )


_OUTCOME = {
    "marketplace_order_completed": "is done",
    "marketplace_order_failed": "erred",
    "marketplace_order_rejected": "was rejected",
}


def order_outcome(event: Event, order: Order) -> Notice:
    reason = ""
    if event.event_type == "marketplace_order_failed":
        reason = event.context.get("error_message") or order.error_message or "The provider gave no reason."
    elif event.event_type == "marketplace_order_rejected":
        by = event.actor_username or "the system"
        if event.context.get("from_state") == OrderState.PENDING_PROVIDER:
            reason = f"Rejected by {by} for the provider ({order.offering.customer.name})."
        else:
            reason = f"Rejected by {by} for the project ({order.project.name})."
        given = event.context.get("reject_reason", order.reject_reason)
        reason += f"\n\nThe reason given:\n{given}" if given else "\n\nNo reason was given."
    return _notice(
        "order_outcomes",
        f"Your {_order_name(order)} {_OUTCOME[event.event_type]}",
        "order_outcome",
        portal_url("portal-order", uuid=order.uuid),
        order=order,
        outcome=_OUTCOME[event.event_type],
        reason=reason,
    )


_MEMBERSHIP = {
    "role_granted": ("You were given the role {role} in {where}", "was given to you"),
    "role_revoked": ("Your role {role} in {where} was removed", "was taken away"),
    "role_expired": ("Your role {role} in {where} expired", "reached its expiration time"),
}


def role_label(name: str) -> str:
    """`PROJECT.MANAGER` → `project manager`."""
    return name.replace(".", " ").lower() if name else "member"


def membership(event: Event) -> Notice:
    context = event.context
    project_name, customer_name = context.get("project_name"), context.get("customer_name")
    where = f"project {project_name}" if project_name else f"organisation {customer_name}"
    role = role_label(context.get("role", ""))
    subject, what = _MEMBERSHIP[event.event_type]
    granted = event.event_type == "role_granted"
    url = portal_url("portal-project", uuid=event.project_uuid) if event.project_uuid and granted else portal_url()
    return _notice(
        "membership",
        subject.format(role=role, where=where),
        "membership",
        url,
        role=role,
        description=ROLE_DESCRIPTIONS.get(context.get("role", ""), ""),
        where=where,
        what=what,
        actor=event.actor_username,
        expiration_time=_when(context.get("expiration_time")) if granted else None,
    )


def project_ending(event: Event) -> Notice:
    context = event.context
    name = context.get("project_name", "")
    if event.event_type == "project_ended":
        subject = f"Project {name} has ended"
    else:
        subject = f"Project {name} ends in {_days(context.get('days_left'))}"
    return _notice(
        "ending",
        subject,
        "project_ending",
        portal_url("portal-project", uuid=event.project_uuid),
        ended=event.event_type == "project_ended",
        name=name,
        customer_name=context.get("customer_name", ""),
        end_date=context.get("end_date", ""),
        days=_days(context.get("days_left")),
    )


def resource_ending(event: Event) -> Notice:
    context = event.context
    name = context.get("resource_name", "")
    ended = event.event_type == "marketplace_resource_terminate_succeeded"
    subject = (
        f"Resource {name} has been terminated"
        if ended
        else f"Resource {name} ends in {_days(context.get('days_left'))}"
    )
    return _notice(
        "ending",
        subject,
        "resource_ending",
        portal_url("portal-resource", uuid=event.resource_uuid),
        ended=ended,
        name=name,
        end_date=context.get("end_date", ""),
        days=_days(context.get("days_left")),
    )


def policy_fired(event: Event) -> Notice:
    context = event.context
    what = "cost" if context.get("kind") == "cost" else f"usage of {context.get('component_type', '')}"
    scope = f"{context.get('scope_type', '')} {context.get('scope_name', '')}"
    if event.project_uuid and context.get("scope_type") == "project":
        url = portal_url("portal-project", uuid=event.project_uuid)
    else:
        url = portal_url()
    return _notice(
        "usage",
        f"The {what} of {scope} reached {context.get('threshold')}% of its limit",
        "policy_fired",
        url,
        what=what,
        scope=scope,
        threshold=context.get("threshold", ""),
        value=context.get("value", ""),
        limit=context.get("limit", ""),
        period_start=context.get("period_start", ""),
        period_end=context.get("period_end", ""),
        actions=[a for a in context.get("actions", []) if a != "notify"],
    )


def _when(value) -> str | None:
    """An ISO time from an event's context as people read it: 2030-01-31 12:00 UTC."""
    moment = parse_datetime(value) if isinstance(value, str) else None
    if moment is None:
        return value or None
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z") if timezone.is_aware(moment) else str(moment)


def _days(value) -> str:
    try:
        days = int(value)
    except (TypeError, ValueError):
        return "a few days"
    return "1 day" if days == 1 else f"{days} days"


def staff_copy(notice: Notice, sent_to: list[str]) -> Notice:
    recipients = ", ".join(sent_to) if sent_to else "nobody (no one to tell, or they turned this kind of mail off)"
    return Notice(
        kind="staff_copy",
        subject=one_line(f"[copy] {notice.subject}"),
        body=f"A copy of the notification sent to: {recipients}.\n\n{notice.body}",
        url=notice.url,
    )
