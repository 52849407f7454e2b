"""The admin shows hooks with their latest deliveries inline, never their secret, and enables them again."""

import uuid

import pytest
from django.utils import timezone

from tests.factories import UserFactory
from webhooks import services
from webhooks.models import Webhook, WebhookDelivery

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="admin", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def hook(owner, customer, hook_for):
    hook = hook_for(owner, "customer", customer.uuid)
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            hook=hook,
            event_uuid=uuid.uuid4(),
            event_type="role_granted",
            payload={},
            state="failed",
            attempts=8,
            last_error=f"HTTP 503 attempt-{n:02d}",
            last_status_code=503,
            next_attempt_at=timezone.now(),
        )
        for n in range(25)
    )
    services.webhook_disable(hook_id=hook.id, reason="20 delivery attempts failed in a row; the last: HTTP 503")
    return hook


def test_the_change_page_shows_the_latest_deliveries_and_no_secret(admin_client, hook):
    page = admin_client.get(f"/admin/webhooks/webhook/{hook.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert hook.secret not in html and "whsec_" not in html
    assert "20 delivery attempts failed in a row" in html
    shown = [n for n in range(25) if f"attempt-{n:02d}" in html]
    assert shown == list(range(5, 25))  # the latest 20


def test_the_lists_and_their_filters(admin_client, hook):
    listed = admin_client.get("/admin/webhooks/webhook/", {"is_active__exact": "0"})
    assert listed.status_code == 200 and hook.destination_url in listed.content.decode()
    assert "whsec_" not in listed.content.decode()
    assert admin_client.get("/admin/webhooks/webhook/", {"is_active__exact": "1"}).context["cl"].result_count == 0
    deliveries = admin_client.get("/admin/webhooks/webhookdelivery/", {"state__exact": "failed"})
    assert deliveries.status_code == 200 and deliveries.context["cl"].result_count == 25


def test_the_enable_action(admin_client, hook):
    answer = admin_client.post(
        "/admin/webhooks/webhook/", {"action": "enable_hooks", "_selected_action": [hook.pk]}, follow=True
    )
    assert "Enabled 1 hook(s)." in answer.content.decode()
    hook.refresh_from_db()
    assert hook.is_active and hook.disabled_reason == "" and hook.consecutive_failures == 0
    admin_client.post("/admin/webhooks/webhook/", {"action": "disable_hooks", "_selected_action": [hook.pk]})
    assert Webhook.objects.get(pk=hook.pk).disabled_reason == "Turned off by admin."
