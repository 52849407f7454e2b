"""Sending deliveries to a real HTTP receiver: signed, retried with backoff, failed after the bound, the
hook disabled when it keeps failing or answers 410; no row lock held during a call, and a claim that
was never answered (a worker that died) sent again once the lease has run out."""

import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection, transaction
from django.db.utils import OperationalError
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from common.backoff import backoff_delay
from events.models import Event
from events.services import event_build, events_insert
from webhooks import services
from webhooks.models import Webhook, WebhookDelivery
from webhooks.services.delivery import Outcome, _claim, _record

pytestmark = pytest.mark.django_db

DONE = "marketplace_order_completed"


@pytest.fixture
def queue(manager, project, provision, receiver):
    """queue(count=1) → a hook of the manager's at the receiver, with `count` deliveries queued."""

    def queue(count=1, **fields):
        hook = services.webhook_create(
            actor=manager,
            destination_url=fields.pop("destination_url", receiver.url),
            scope_type="project",
            scope_uuid=project.uuid,
            event_types=[DONE],
        )
        receiver.secret = hook.secret
        events_insert(
            event_build(DONE, scope=("order", provision.order.uuid), project=project.uuid) for _ in range(count - 1)
        )
        services.deliveries_queue(list(Event.objects.filter(event_type=DONE)))
        return hook

    return queue


def test_a_delivery_is_posted_signed_and_marked_delivered(queue, receiver):
    hook = queue()
    Webhook.objects.filter(id=hook.id).update(consecutive_failures=3)
    assert services.deliveries_send_due() == 1
    [got] = receiver.received
    delivery = WebhookDelivery.objects.get()
    assert got.verified and got.answered == 200 and got.webhook_id == str(delivery.event_uuid)
    assert got.event == delivery.payload and got.headers["content-type"] == "application/json"
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)
    assert delivery.delivered_at is not None
    hook.refresh_from_db()
    assert hook.consecutive_failures == 0
    assert services.deliveries_send_due() == 0 and len(receiver.received) == 1  # nothing is sent twice


def test_a_failed_attempt_is_retried_after_a_backoff(queue, receiver, settings):
    settings.WEBHOOK_RETRY_BASE, settings.WEBHOOK_RETRY_CAP = 30.0, 600.0
    hook = queue()
    receiver.mode = "unavailable"
    before = timezone.now()
    assert services.deliveries_send_due() == 0
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("pending", 1, 503)
    assert delivery.last_error == 'HTTP 503 Service Unavailable: {"detail": "down for maintenance"}'
    assert before + timedelta(seconds=15) <= delivery.next_attempt_at <= timezone.now() + timedelta(seconds=30)
    hook.refresh_from_db()
    assert hook.consecutive_failures == 1 and hook.is_active
    assert services.deliveries_send_due() == 0 and len(receiver.received) == 1  # not due yet

    receiver.mode = "ok"
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    assert services.deliveries_send_due() == 1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_error) == ("delivered", 2, "")
    assert [r.webhook_id for r in receiver.received] == [str(delivery.event_uuid)] * 2
    assert receiver.accepted_ids() == [str(delivery.event_uuid)]


def test_a_delivery_fails_after_the_last_attempt(queue, receiver, settings):
    settings.WEBHOOK_MAX_ATTEMPTS, settings.WEBHOOK_DISABLE_AFTER = 3, 100
    hook = queue()
    receiver.mode = "unavailable"
    for _ in range(5):
        WebhookDelivery.objects.filter(state="pending").update(next_attempt_at=timezone.now())
        services.deliveries_send_due()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts) == ("failed", 3)
    assert len(receiver.received) == 3
    hook.refresh_from_db()
    assert hook.is_active and hook.consecutive_failures == 3


def test_a_hook_that_keeps_failing_is_disabled_with_the_reason(queue, receiver, settings, api, manager):
    settings.WEBHOOK_MAX_ATTEMPTS, settings.WEBHOOK_DISABLE_AFTER = 10, 4
    hook = queue(count=3)
    receiver.mode = "unavailable"
    services.deliveries_send_due()  # three failures
    WebhookDelivery.objects.filter(state="pending").update(next_attempt_at=timezone.now())
    services.deliveries_send_due()  # the fourth disables; the rest are not sent
    assert len(receiver.received) == 4
    hook.refresh_from_db()
    reason = (
        "4 delivery attempts failed in a row; the last: "
        'HTTP 503 Service Unavailable: {"detail": "down for maintenance"}'
    )
    assert (hook.is_active, hook.disabled_reason, hook.consecutive_failures) == (False, reason, 4)
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {"failed"}
    answer = api.as_user(manager).get(f"/api/hooks-web/{hook.uuid}/").json()
    assert (answer["is_active"], answer["disabled_reason"]) == (False, reason)


def test_410_gone_disables_the_hook_at_once(queue, receiver):
    hook = queue(count=2)
    receiver.mode = "gone"
    services.deliveries_send_due()
    hook.refresh_from_db()
    assert not hook.is_active and hook.disabled_reason == "The endpoint answered HTTP 410 Gone: {}"
    assert len(receiver.received) == 1  # the second is not sent
    assert list(WebhookDelivery.objects.order_by("id").values_list("state", "attempts")) == [
        ("failed", 1),
        ("failed", 0),
    ]
    assert WebhookDelivery.objects.filter(attempts=0).get().last_error == "Not sent: the hook was disabled."


def test_a_refused_connection_and_a_timeout_are_failed_attempts(queue, receiver, settings):
    settings.WEBHOOK_TIMEOUT = 0.5
    queue()
    receiver.mode, receiver.hang_seconds = "hang", 3
    services.deliveries_send_due()
    delivery = WebhookDelivery.objects.get()
    assert delivery.attempts == 1 and delivery.last_error.startswith("ReadTimeout: ")
    receiver.stop()
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    services.deliveries_send_due()
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and delivery.last_error.startswith("ConnectionError: ")
    assert "refused" in delivery.last_error.lower() and delivery.last_status_code is None


def test_redirects_are_not_followed(queue, receiver):
    class Redirect(BaseHTTPRequestHandler):
        def do_POST(self):
            self.send_response(307)
            self.send_header("Location", receiver.url)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        queue(destination_url=f"http://127.0.0.1:{server.server_port}/hook")
        services.deliveries_send_due()
    finally:
        server.shutdown()
        server.server_close()
    delivery = WebhookDelivery.objects.get()
    assert delivery.last_status_code == 307 and delivery.state == "pending"
    assert receiver.received == []


def test_a_claim_never_answered_is_sent_again_after_the_lease(queue, receiver):
    """A worker that died after claiming: the deliveries stay pending, due again when the lease runs out."""
    queue(count=2)
    claimed = _claim(10)
    assert len(claimed) == 2
    assert WebhookDelivery.objects.filter(next_attempt_at__gt=timezone.now() + timedelta(seconds=30)).count() == 2
    assert services.deliveries_send_due() == 0 and receiver.received == []  # leased: not due
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())  # the lease ran out
    assert services.deliveries_send_due() == 2
    assert len(set(receiver.accepted_ids())) == 2


def test_a_result_is_recorded_once_even_if_two_runs_sent(queue, receiver):
    """A run that outlived its lease and a second run both sent; only the first result counts."""
    queue()
    [stale] = _claim(10)
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    assert services.deliveries_send_due() == 1
    assert _record(stale, Outcome(status_code=503, error="HTTP 503")) == "stale"
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_error) == ("delivered", 1, "")


def test_claiming_locks_rows_and_skips_locked_ones(queue):
    queue(count=3)
    with CaptureQueriesContext(connection) as queries:
        _claim(2)
    [select] = [q["sql"] for q in queries if q["sql"].startswith("SELECT")]
    assert select.endswith('FOR UPDATE OF "webhooks_webhookdelivery" SKIP LOCKED')
    assert WebhookDelivery.objects.filter(next_attempt_at__lte=timezone.now()).count() == 1


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_no_row_lock_is_held_during_the_call(queue, receiver):
    """While the receiver handles the request, another connection can lock the delivery and its hook at once."""
    hook = queue()
    seen = {}

    def try_locks(webhook_id):
        try:
            with transaction.atomic():
                delivery = WebhookDelivery.objects.select_for_update(nowait=True).get(event_uuid=webhook_id)
                Webhook.objects.select_for_update(nowait=True).get(id=hook.id)
                seen["locked"] = delivery.state == "pending"
        except OperationalError as exc:
            seen["error"] = str(exc)
        finally:
            connection.close()

    receiver.on_request = try_locks
    assert services.deliveries_send_due() == 1
    assert seen == {"locked": True}


def test_the_backoff_grows_with_jitter_and_is_capped():
    for attempts, ceiling in [(1, 10), (2, 20), (4, 80), (9, 600), (200, 600)]:
        delays = [backoff_delay(attempts, base=10, cap=600) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays) and len(set(delays)) > 1


def test_old_deliveries_are_pruned(queue, receiver, settings):
    settings.WEBHOOK_DELIVERY_RETENTION_DAYS = 30
    queue(count=3)
    services.deliveries_send_due()
    old = timezone.now() - timedelta(days=31)
    first, second, third = WebhookDelivery.objects.order_by("id")
    WebhookDelivery.objects.filter(id__in=[first.id, second.id]).update(created=old)
    WebhookDelivery.objects.filter(id=second.id).update(state="pending")
    assert services.deliveries_prune() == 1
    assert set(WebhookDelivery.objects.values_list("id", flat=True)) == {second.id, third.id}
