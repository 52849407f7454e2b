"""Sending notification mail: one mail per person and run, a digest when several are waiting.

A person is due when their oldest pending notification is older than NOTIFICATION_DIGEST_WINDOW
seconds and none of their pending ones is backing off after a failure. Their pending rows are then
locked (`SKIP LOCKED`: a concurrent run leaves them alone), put into one mail (one notification →
its own subject; several → "N updates" listing them), sent over SMTP, and marked sent in the same
transaction. Everything that arrived within the window rides along, so 20 events in a minute make
one mail.

Exactly once: rows are marked sent only in the transaction that sent them, and locked while it
runs, so no other run can send them again. The one window left is between the SMTP server
accepting the mail and our commit: if the commit then fails (database gone, process killed), the
rows stay pending and the mail goes again later. It goes with the same Message-ID (derived from
the rows' ids), so a receiving server or mail client that de-duplicates by Message-ID drops it.

Failures: an SMTP error counts an attempt on each row of the mail and backs them off
exponentially with jitter (NOTIFICATION_RETRY_BASE, _CAP); after NOTIFICATION_MAX_ATTEMPTS a row
is failed with its last error, visible in the admin. When the server itself is unreachable the run
stops: the others are tried by the next run rather than each timing out now.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import random
import smtplib
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F, Max, Min, Q
from django.template.loader import render_to_string
from django.utils import timezone

from federation.models import User

from ..messages import portal_url
from ..models import MailNotification
from ..selectors import reachable

logger = logging.getLogger(__name__)

DIGEST_MAX_ITEMS = 100  # more wait for the next mail
# Errors about one message; anything else means the server is down or misbehaving for everyone.
MESSAGE_ERRORS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError)

Pending = MailNotification.State.PENDING


def _window() -> timedelta:
    return timedelta(seconds=settings.NOTIFICATION_DIGEST_WINDOW)


def _per_user():
    return (
        MailNotification.objects.filter(state=Pending)
        .values("user_id")
        .annotate(oldest=Min("created"), retry_at=Max("next_attempt_at"))
    )


def due_user_ids(*, now: datetime, limit: int) -> list[int]:
    """People with mail to send now, longest waiting first."""
    rows = (
        _per_user()
        .filter(oldest__lte=now - _window())
        .filter(Q(retry_at__isnull=True) | Q(retry_at__lte=now))
        .order_by("oldest")
    )
    return [row["user_id"] for row in rows[:limit]]


def next_due_in(*, now: datetime | None = None) -> float | None:
    """Seconds until the next person becomes due (0 when someone is due now), None when nothing waits."""
    now = now or timezone.now()
    due_times = [max(row["oldest"] + _window(), row["retry_at"] or row["oldest"]) for row in _per_user().order_by()]
    if not due_times:
        return None
    return max((min(due_times) - now).total_seconds(), 0.0)


def message_id(rows: list[MailNotification]) -> str:
    """The same rows make the same Message-ID, so a mail sent again after a failed commit can be dropped."""
    ids = sorted(row.id for row in rows)
    digest = hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()[:16]
    host = urlsplit(settings.FEDERATION_URL).hostname or "localhost"
    return f"<notification-{ids[0]}-{len(ids)}-{digest}@{host}>"


def build_message(user: User, rows: list[MailNotification], *, connection=None) -> EmailMultiAlternatives:
    """One mail for `rows` (plain text and HTML): the notification's own subject, or a digest of several."""
    single = len(rows) == 1
    subject = rows[0].subject if single else f"{len(rows)} updates from the federation portal"
    context = {
        "user": user,
        "items": rows,
        "single": single,
        "portal_url": portal_url(),
        "settings_url": portal_url("portal-notification-settings"),
    }
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("notifications/mail.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
        headers={"Message-ID": message_id(rows)},
        connection=connection,
    )
    message.attach_alternative(render_to_string("notifications/mail.html", context), "text/html")
    return message


def _backoff(attempts: int) -> timedelta:
    delay = min(settings.NOTIFICATION_RETRY_CAP, settings.NOTIFICATION_RETRY_BASE * 2 ** max(attempts - 1, 0))
    return timedelta(seconds=delay * random.uniform(0.5, 1.0))


def _record_failure(rows: list[MailNotification], error: str, *, now: datetime, final: bool = False) -> None:
    for row in rows:
        row.attempts += 1
        row.last_error = error[:2000]
        if final or row.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
            row.state = MailNotification.State.FAILED
        else:
            row.next_attempt_at = now + _backoff(row.attempts)
    MailNotification.objects.bulk_update(rows, ["attempts", "last_error", "state", "next_attempt_at"])


def _is_due(rows: list[MailNotification], now: datetime) -> bool:
    waited = min(row.created for row in rows) <= now - _window()
    return waited and all(row.next_attempt_at is None or row.next_attempt_at <= now for row in rows)


def notification_send_to(*, user_id: int, connection, now: datetime | None = None) -> str:
    """Send one person's due notifications as one mail. Returns "sent", "not-due", "failed" or "server-down"."""
    now = now or timezone.now()
    with transaction.atomic():
        rows = list(
            MailNotification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("user")
            .filter(user_id=user_id, state=Pending)
            .order_by("created", "id")[:DIGEST_MAX_ITEMS]
        )
        if not rows or not _is_due(rows, now):
            return "not-due"
        user = rows[0].user
        if not reachable(user):
            _record_failure(rows, "The person has no e-mail address or is inactive.", now=now, final=True)
            return "failed"
        try:
            message = build_message(user, rows, connection=connection)
            connection.open()  # once per run: the next person's mail goes over the same session
            message.send()
        except OSError as exc:  # smtplib's errors are OSErrors, like refused connections and timeouts
            with contextlib.suppress(Exception):
                connection.close()
            _record_failure(rows, f"{type(exc).__name__}: {exc}", now=now)
            logger.warning("mail to user %s failed (%d notification(s)): %s", user_id, len(rows), exc)
            return "failed" if isinstance(exc, MESSAGE_ERRORS) else "server-down"
        except Exception as exc:  # a mail that cannot be built (a bad address, say) must not stop the others
            _record_failure(rows, f"{type(exc).__name__}: {exc}", now=now)
            logger.exception("mail to user %s could not be built or sent", user_id)
            return "failed"
        MailNotification.objects.filter(id__in=[row.id for row in rows]).update(
            state=MailNotification.State.SENT,
            sent_at=timezone.now(),
            attempts=F("attempts") + 1,
            message_id=message.extra_headers["Message-ID"],
            last_error="",
        )
    return "sent"


def notifications_send_due(*, now: datetime | None = None, limit: int | None = None) -> int:
    """Send a mail to each due person (at most `limit` people); returns how many mails went out."""
    now = now or timezone.now()
    connection = get_connection(fail_silently=False)
    sent = 0
    try:
        for user_id in due_user_ids(now=now, limit=limit or settings.NOTIFICATION_SEND_BATCH):
            outcome = notification_send_to(user_id=user_id, connection=connection, now=now)
            if outcome == "sent":
                sent += 1
            elif outcome == "server-down":
                break
    finally:
        with contextlib.suppress(Exception):
            connection.close()
    return sent
