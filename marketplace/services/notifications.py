"""Emails to the people an order waits for; sent after the transaction commits."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.template.loader import render_to_string

from marketplace.models import Order, OrderState
from marketplace.selectors import order_approvers

logger = logging.getLogger(__name__)


def notify_order_waiting(order: Order) -> None:
    """Tell the approvers of the order's current state (pending-consumer or pending-provider)."""
    role = {OrderState.PENDING_CONSUMER: "consumer", OrderState.PENDING_PROVIDER: "provider"}.get(order.state)
    if role is None:
        return
    messages = []
    for user in order_approvers(order):
        context = {"order": order, "role": role, "recipient": user}
        subject = render_to_string("marketplace/email/order_waiting_subject.txt", context).strip()
        body = render_to_string("marketplace/email/order_waiting.txt", context)
        messages.append((subject, body, settings.DEFAULT_FROM_EMAIL, [user.email]))
    if messages:
        transaction.on_commit(lambda: _send(messages, order.uuid))


def _send(messages, order_uuid) -> None:
    try:
        send_mass_mail(messages, fail_silently=False)
    except Exception:
        # A mail server outage must not undo or hide an order; the order is visible in the API and admin.
        logger.exception("Could not email approvers of order %s", order_uuid)
