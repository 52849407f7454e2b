"""Provider health: what succeeded last, and consecutive failures that pause deliveries."""

from __future__ import annotations

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from ..models import Provider


def provider_record_success(*, provider_id: int, field: str) -> None:
    """A call answered: the provider is available again and its failure count starts over."""
    Provider.objects.filter(id=provider_id).update(
        **{field: timezone.now()}, consecutive_failures=0, available=True, last_error=""
    )


def provider_record_failure(*, provider_id: int, error: str) -> None:
    """Count a failure; at PROVIDER_FAILURE_THRESHOLD in a row the provider is marked unavailable."""
    Provider.objects.filter(id=provider_id).update(
        consecutive_failures=F("consecutive_failures") + 1, last_error=error[:2000], last_failure_at=timezone.now()
    )
    Provider.objects.filter(
        id=provider_id, consecutive_failures__gte=settings.PROVIDER_FAILURE_THRESHOLD, available=True
    ).update(available=False)
