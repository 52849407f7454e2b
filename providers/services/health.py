"""Provider health: what succeeded last, and consecutive failures that pause deliveries.

A provider going unavailable (PROVIDER_FAILURE_THRESHOLD failures in a row) or answering again is
recorded as an event, once per transition: the conditional UPDATE that makes the transition is the
one that says it happened, so concurrent calls cannot both record it. A success while available,
the common case, stays one UPDATE.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from events.services import event_record

from ..models import Provider


def provider_event(event_type: str, *, provider_id: int, **context) -> None:
    """Record an event about the provider, seen by whoever may see the provider (its organisation's owners)."""
    provider = Provider.objects.filter(id=provider_id).values("uuid", "slug", "name", "customer__uuid").get()
    event_record(
        event_type,
        scope=("provider", provider["uuid"]),
        customer=provider["customer__uuid"],
        context={"provider_slug": provider["slug"], "provider_name": provider["name"], **context},
    )


def provider_record_success(*, provider_id: int, field: str) -> None:
    """A call answered: the provider is available again and its failure count starts over."""
    values = {field: timezone.now(), "consecutive_failures": 0, "last_error": ""}
    if Provider.objects.filter(id=provider_id, available=True).update(**values):
        return
    with transaction.atomic(savepoint=False):
        if Provider.objects.filter(id=provider_id, available=False).update(**values, available=True):
            provider_event("provider_available", provider_id=provider_id)


def provider_record_failure(*, provider_id: int, error: str) -> None:
    """Count a failure; at PROVIDER_FAILURE_THRESHOLD in a row the provider is marked unavailable."""
    error = error[:2000]
    Provider.objects.filter(id=provider_id).update(
        consecutive_failures=F("consecutive_failures") + 1, last_error=error, last_failure_at=timezone.now()
    )
    with transaction.atomic(savepoint=False):
        if Provider.objects.filter(
            id=provider_id, consecutive_failures__gte=settings.PROVIDER_FAILURE_THRESHOLD, available=True
        ).update(available=False):
            provider_event("provider_unavailable", provider_id=provider_id, last_error=error)
