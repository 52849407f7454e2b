"""The relay against a provider that is not there: backoff, the attempt bound, health, the probe."""

import os
import subprocess
import sys

import pytest
from django.test import override_settings
from django.utils import timezone

from marketplace import services as marketplace
from providers import services
from providers.models import OutboxMessage, Provider

from .harness import worker_database_url

pytestmark = pytest.mark.django_db


def test_backoff_grows_exponentially_with_jitter_and_is_capped():
    with override_settings(PROVIDER_RETRY_BASE=1.0, PROVIDER_RETRY_CAP=60.0):
        for attempts, ceiling in [(1, 1), (2, 2), (3, 4), (5, 16), (10, 60), (30, 60)]:
            delays = [services.retry_delay(attempts) for _ in range(50)]
            assert all(ceiling / 2 <= d <= ceiling for d in delays)
            assert len(set(delays)) > 1  # jitter


def _queued_order(offering, manager, project, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        order = marketplace.order_create(
            actor=manager,
            project=project,
            offering=offering,
            plan=offering.plans.first(),
            attributes={"name": "alloc"},
            limits={"cpu": 5},
        )
    return order


@override_settings(PROVIDER_MAX_ATTEMPTS=3, PROVIDER_TIMEOUT=0.5, PROVIDER_FAILURE_THRESHOLD=100)
def test_unreachable_provider_errs_the_order_after_the_bound(
    site, ordering_manager, django_capture_on_commit_callbacks
):
    # The site is at 127.0.0.1:9, where nothing listens.
    order = _queued_order(
        site.offering, ordering_manager.user, ordering_manager.project, django_capture_on_commit_callbacks
    )
    row = OutboxMessage.objects.get(order_uuid=order.uuid)
    for attempt in range(1, 4):
        OutboxMessage.objects.filter(id=row.id).update(next_attempt_at=timezone.now())
        delivered, retry_in = services.outbox_deliver(provider_id=site.provider.id)
        assert delivered == 0
        row.refresh_from_db()
        assert row.attempts == attempt
    assert row.state == "failed"
    order.refresh_from_db()
    assert order.state == "erred"
    assert "failed after 3 attempts" in order.error_message and "unreachable" in order.error_message
    order.resource.refresh_from_db()
    assert order.resource.state == "Erred"


@override_settings(PROVIDER_FAILURE_THRESHOLD=2, PROVIDER_TIMEOUT=0.5)
def test_repeated_failures_mark_the_provider_unavailable_and_pause_delivery(
    site, ordering_manager, django_capture_on_commit_callbacks
):
    order = _queued_order(
        site.offering, ordering_manager.user, ordering_manager.project, django_capture_on_commit_callbacks
    )
    for _ in range(2):
        OutboxMessage.objects.filter(order_uuid=order.uuid).update(next_attempt_at=timezone.now())
        services.outbox_deliver(provider_id=site.provider.id)
    site.provider.refresh_from_db()
    assert site.provider.available is False and site.provider.consecutive_failures == 2
    OutboxMessage.objects.filter(order_uuid=order.uuid).update(next_attempt_at=timezone.now())
    services.outbox_deliver(provider_id=site.provider.id)
    assert OutboxMessage.objects.get(order_uuid=order.uuid).attempts == 2  # paused: not tried again


def _probe(slug):
    env = dict(os.environ, DATABASE_URL=worker_database_url())
    result = subprocess.run(
        [sys.executable, "manage.py", "check_provider", slug], capture_output=True, text=True, env=env
    )
    return result.returncode, result.stdout.strip()


@pytest.mark.django_db(transaction=True)
def test_check_provider_exit_codes(site):
    code, line = _probe("no-such-provider")
    assert code == 3 and line.startswith("PROVIDER UNKNOWN")
    code, line = _probe(site.provider.slug)
    assert code == 3 and "never answered" in line
    Provider.objects.filter(id=site.provider.id).update(last_manifest_pull_at=timezone.now())
    code, line = _probe(site.provider.slug)
    assert code == 0 and line.startswith("PROVIDER OK") and "| pending=0" in line
    Provider.objects.filter(id=site.provider.id).update(consecutive_failures=1)
    assert _probe(site.provider.slug)[0] == 1
    Provider.objects.filter(id=site.provider.id).update(available=False, last_error="boom")
    code, line = _probe(site.provider.slug)
    assert code == 2 and "boom" in line
