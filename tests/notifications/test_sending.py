"""Sending over a real SMTP server: one mail per person, digests, retries, exactly once."""

import threading
from datetime import timedelta

import pytest
from django.db import connections, transaction
from django.utils import timezone

from notifications.models import MailNotification
from notifications.services import next_due_in, notifications_send_due
from notifications.services.sending import build_message

from .smtp import html_part, text_part

pytestmark = pytest.mark.django_db

LATER = timedelta(seconds=61)  # past the 60 s digest window


def test_a_single_notification_is_a_mail_of_its_own(people, dispatch, smtp):
    order = people.place()
    dispatch()
    assert notifications_send_due() == 0  # still inside the digest window
    assert smtp.received == []
    assert notifications_send_due(now=timezone.now() + LATER) == 2  # the manager's and the owner's
    [mail] = smtp.mails_to(people.manager.email)
    link = f"https://portal.example.org/orders/{order.uuid}/"
    assert mail["Subject"] == "Approval needed: create order for 'Allocation' in Climate models"
    assert mail["From"] == "federation@localhost"
    assert link in text_part(mail) and f'href="{link}"' in html_part(mail)
    assert "https://portal.example.org/settings/notifications/" in text_part(mail)
    row = MailNotification.objects.get(user=people.manager)
    assert row.state == "sent" and row.attempts == 1 and row.sent_at and row.last_error == ""
    assert mail["Message-ID"] == row.message_id and row.message_id.endswith("@portal.example.org>")
    assert notifications_send_due(now=timezone.now() + LATER) == 0  # nothing is sent twice
    assert len(smtp.received) == 2


def test_twenty_events_within_the_window_make_one_digest(people, dispatch, smtp):
    orders = [people.place(name=f"alloc-{n:02d}") for n in range(20)]
    dispatch()
    assert MailNotification.objects.filter(user=people.manager).count() == 20
    notifications_send_due(now=timezone.now() + LATER)
    [mail] = smtp.mails_to(people.manager.email)
    assert mail["Subject"] == "20 updates from the federation portal"
    text, html = text_part(mail), html_part(mail)
    for order in orders:
        link = f"https://portal.example.org/orders/{order.uuid}/"
        assert link in text and f'href="{link}"' in html
    assert text.count("Approval needed:") == 20
    assert set(MailNotification.objects.filter(user=people.manager).values_list("state", flat=True)) == {"sent"}
    assert len({*MailNotification.objects.values_list("message_id", flat=True)}) == 2  # one per person


def test_the_window_counts_from_the_oldest_waiting_notification(people, dispatch, smtp):
    people.place(name="first")
    dispatch()
    MailNotification.objects.update(created=timezone.now() - timedelta(seconds=59))
    people.place(name="second")
    dispatch()
    assert notifications_send_due() == 0
    assert next_due_in() == pytest.approx(1, abs=0.5)
    assert notifications_send_due(now=timezone.now() + timedelta(seconds=2)) == 2  # both ride along
    assert smtp.mails_to(people.manager.email)[0]["Subject"] == "2 updates from the federation portal"


def test_smtp_down_then_up_sends_once_after_backing_off(people, dispatch, smtp):
    people.place()
    dispatch()
    smtp.stop()
    now = timezone.now() + LATER
    assert notifications_send_due(now=now) == 0
    failed = MailNotification.objects.filter(attempts=1)
    assert failed.count() == 1  # the server was down: the run stopped after the first person
    row = failed.get()
    assert row.state == "pending" and "Connection refused" in row.last_error
    assert now + timedelta(seconds=14) < row.next_attempt_at <= now + timedelta(seconds=30)
    smtp.start()
    assert notifications_send_due(now=now) == 1  # the other person; the first backs off
    assert notifications_send_due(now=now + timedelta(seconds=31)) == 1
    assert notifications_send_due(now=now + timedelta(seconds=3600)) == 0
    assert sorted(m["To"] for m in smtp.received) == sorted([people.manager.email, people.owner.email])
    assert set(MailNotification.objects.values_list("state", flat=True)) == {"sent"}


def test_a_notification_fails_for_good_after_the_last_attempt(people, dispatch, smtp):
    people.manager.notification_settings = {"approvals": False}
    people.manager.save()
    people.place()
    dispatch()
    smtp.stop()
    now = timezone.now() + LATER
    for attempt in range(3):
        notifications_send_due(now=now + timedelta(hours=attempt))
    row = MailNotification.objects.get()
    assert row.state == "failed" and row.attempts == 3 and row.last_error
    smtp.start()
    assert notifications_send_due(now=now + timedelta(days=1)) == 0
    assert smtp.received == []


def test_someone_without_an_address_by_sending_time_is_failed_not_retried(people, dispatch, smtp):
    people.place()
    dispatch()
    people.manager.email = ""
    people.manager.save()
    notifications_send_due(now=timezone.now() + LATER)
    row = MailNotification.objects.get(user=people.manager)
    assert row.state == "failed" and "no e-mail address" in row.last_error
    assert [m["To"] for m in smtp.received] == [people.owner.email]


def test_the_same_rows_make_the_same_message_id(people, dispatch):
    people.place(name="a")
    people.place(name="b")
    dispatch()
    rows = list(MailNotification.objects.filter(user=people.manager))
    first = build_message(people.manager, rows)
    again = build_message(people.manager, list(reversed(rows)))
    other = build_message(people.manager, rows[:1])
    assert first.extra_headers["Message-ID"] == again.extra_headers["Message-ID"]
    assert other.extra_headers["Message-ID"] != first.extra_headers["Message-ID"]


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_rows_another_run_holds_are_skipped_not_sent_twice(people, dispatch, smtp):
    """While one run holds a person's rows (sending), a second run leaves them alone."""
    people.place()
    dispatch()
    held, release = threading.Event(), threading.Event()

    def hold_rows():
        try:
            with transaction.atomic():
                list(MailNotification.objects.select_for_update().filter(user=people.manager))
                held.set()
                release.wait(10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_rows)
    holder.start()
    try:
        assert held.wait(10)
        assert notifications_send_due(now=timezone.now() + LATER) == 1  # the owner only
    finally:
        release.set()
        holder.join()
    assert [m["To"] for m in smtp.received] == [people.owner.email]
    assert MailNotification.objects.get(user=people.manager).state == "pending"


def test_a_mail_that_cannot_be_built_fails_alone(people, dispatch, smtp):
    people.place()
    dispatch()
    people.manager.email = "manager@example.org\nBcc: everyone@example.org"
    people.manager.save()
    assert notifications_send_due(now=timezone.now() + LATER) == 1
    row = MailNotification.objects.get(user=people.manager)
    assert row.state == "pending" and row.attempts == 1 and "Invalid address" in row.last_error
    assert [m["To"] for m in smtp.received] == [people.owner.email]


def test_a_name_with_line_breaks_makes_a_one_line_subject(people, project, dispatch, smtp):
    project.name = "Climate\r\nBcc: everyone@example.org"
    project.save()
    people.place()
    dispatch()
    notifications_send_due(now=timezone.now() + LATER)
    mail = smtp.mails_to(people.manager.email)[0]
    assert mail["Subject"] == "Approval needed: create order for 'Allocation' in Climate Bcc: everyone@example.org"
    assert mail["Bcc"] is None and len(smtp.envelopes[0][1]) == 1
